export { type DeadLetterRecord, deadLetterRecord } from "./envelope.js";
export {
  type AnnouncedObject,
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
  checkSqsSourceConfig,
  MIN_VISIBILITY_TIMEOUT_SECONDS,
  redeliveryDelay,
  resolveSqsSourceOptions,
  SQS_MAX_VISIBILITY_TIMEOUT,
  type SqsSourceConfig,
  type SqsSourceOptions,
  sqsSourceSchema,
} from "./options.js";
export { sqsSource } from "./plugin.js";
export { type QueueIdentity, queueIdentity, sameQueue } from "./queue-identity.js";
export { NOTIFICATIONS_METRIC, SqsSource } from "./source.js";
