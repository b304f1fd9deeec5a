/**
 * Routes added to the CMDB example so that about a quarter of the records are routed, as in a
 * trail feeding a security team: role sessions, secret reads, and the other changes. Used by the
 * end-to-end, pipeline-memory and decode benches.
 */
export const AUDIT_ROUTES = [
  { name: "sessions", pattern: { eventSource: ["sts.amazonaws.com"], eventName: ["AssumeRole"] } },
  {
    name: "secrets",
    pattern: {
      eventSource: ["secretsmanager.amazonaws.com", "ssm.amazonaws.com"],
      eventName: ["GetSecretValue", "GetParameter"],
    },
  },
  {
    name: "changes",
    pattern: {
      eventSource: ["ec2.amazonaws.com", "iam.amazonaws.com", "s3.amazonaws.com"],
      eventName: [
        "CreateTags",
        "StopInstances",
        "StartInstances",
        "AuthorizeSecurityGroupIngress",
        "AttachRolePolicy",
        "CreateAccessKey",
        "PutBucketPolicy",
        "CreateBucket",
      ],
    },
  },
] as const;
