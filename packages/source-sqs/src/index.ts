export {
  CLOUDTRAIL_VALIDATION_MESSAGE,
  classifyTrailKey,
  type Notification,
  type NotificationContext,
  type NotificationType,
  parseNotification,
  type TrailKey,
  type TrailKeyKind,
} from "./notification.js";
export {
  resolveSqsSourceOptions,
  type SqsSourceConfig,
  type SqsSourceOptions,
  sqsSourceSchema,
} from "./options.js";
export { sqsSource } from "./plugin.js";
export { SqsSource } from "./source.js";
