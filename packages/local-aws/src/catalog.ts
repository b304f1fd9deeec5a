/**
 * What the traffic generator draws from: the principals of each account and the management events
 * they call, weighted like a busy production account (reads dominate, writes are rare).
 */
import type { Draw } from "./draw.js";

/** A principal as `userIdentity` describes it. */
export interface Actor {
  readonly type: "IAMUser" | "AssumedRole" | "Root" | "AWSService";
  readonly identity: Readonly<Record<string, unknown>>;
  /** The identity of a console sign-in (no access key). */
  readonly consoleIdentity: Readonly<Record<string, unknown>>;
  /** The caller's ARN, or the service principal for AWSService. */
  readonly arn: string;
}

export interface KmsKey {
  readonly arn: string;
  readonly resources: readonly unknown[];
}

export interface Account {
  readonly id: string;
  readonly users: readonly Actor[];
  readonly roles: readonly Actor[];
  /** Roles people sign in to the console with. */
  readonly signInRoles: readonly Actor[];
  readonly roleArns: readonly string[];
  /** Roles AWS services assume for workloads (Lambda, ECS, EC2). */
  readonly workloadRoleArns: readonly string[];
  readonly root: Actor;
  readonly ipAddresses: readonly string[];
  readonly instanceIds: readonly string[];
  readonly securityGroupIds: readonly string[];
  readonly buckets: readonly string[];
  /** Two keys per region, indexed like the generator's regions. */
  readonly kmsKeys: readonly (readonly KmsKey[])[];
}

/** The state of the record being built, reused from one record to the next. */
export interface Call {
  draw: Draw;
  account: Account;
  region: string;
  regionIndex: number;
  actor: Actor;
  /** Milliseconds since the epoch. */
  time: number;
}

export interface EventSpec {
  readonly source: string;
  readonly name: string;
  /** Relative frequency. */
  readonly weight: number;
  readonly readOnly: boolean;
  /** Global services record their events in us-east-1 whatever region the caller uses. */
  readonly global?: boolean;
  /** AWS services that make this call on their own behalf (userIdentity type AWSService). */
  readonly services?: readonly string[];
  request(call: Call): unknown;
  response?(call: Call, request: unknown): unknown;
  resources?(call: Call, request: unknown): readonly unknown[];
}

/** Shared parts of the records are frozen: consumers must copy before they change a record. */
export function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/** IPv4 documentation ranges (RFC 5737): realistic shape, nobody's real address. */
const DOCUMENTATION_NETWORKS = ["192.0.2", "198.51.100", "203.0.113"];
const USER_NAMES = ["alice", "bob", "carol", "ci-deploy", "terraform"];
const PEOPLE = ["alice@example.com", "bob@example.com", "carol@example.com", "dave@example.com"];

function iamUser(draw: Draw, accountId: string, userName: string): Actor {
  const arn = `arn:aws:iam::${accountId}:user/${userName}`;
  const base = { type: "IAMUser", principalId: `AIDA${draw.upperAlphanumeric(16)}`, arn, accountId };
  return {
    type: "IAMUser",
    identity: { ...base, accessKeyId: `AKIA${draw.upperAlphanumeric(16)}`, userName },
    consoleIdentity: { ...base, userName },
    arn,
  };
}

function assumedRole(draw: Draw, accountId: string, roleName: string, session: string, since: string): Actor {
  const roleId = `AROA${draw.upperAlphanumeric(16)}`;
  const arn = `arn:aws:sts::${accountId}:assumed-role/${roleName}/${session}`;
  const identity = {
    type: "AssumedRole",
    principalId: `${roleId}:${session}`,
    arn,
    accountId,
    accessKeyId: `ASIA${draw.upperAlphanumeric(16)}`,
    sessionContext: {
      sessionIssuer: {
        type: "Role",
        principalId: roleId,
        arn: `arn:aws:iam::${accountId}:role/${roleName}`,
        accountId,
        userName: roleName,
      },
      attributes: { creationDate: since, mfaAuthenticated: "false" },
    },
  };
  return { type: "AssumedRole", identity, consoleIdentity: identity, arn };
}

/** The principals and resources of one account, drawn once per generator. */
export function createAccount(draw: Draw, id: string, regions: readonly string[], since: string): Account {
  // Roles people sign in with first, then workload roles.
  const roles: [string, string][] = [
    [`AWSReservedSSO_AdministratorAccess_${draw.hex(16)}`, draw.pick(PEOPLE)],
    [`AWSReservedSSO_ReadOnlyAccess_${draw.hex(16)}`, draw.pick(PEOPLE)],
    ["OrganizationAccountAccessRole", draw.pick(PEOPLE)],
    ["github-actions-deploy", "GitHubActions"],
    ["app-backend-task", draw.hex(32)],
    ["eks-node-group", `i-${draw.hex(17)}`],
  ];
  const rootBase = { type: "Root", principalId: id, arn: `arn:aws:iam::${id}:root`, accountId: id };
  const roleActors = roles.map(([role, session]) => assumedRole(draw, id, role, session, since));
  const roleArns = roles.map(([role]) => `arn:aws:iam::${id}:role/${role}`);
  return deepFreeze({
    id,
    users: USER_NAMES.map((name) => iamUser(draw, id, name)),
    roles: roleActors,
    signInRoles: roleActors.slice(0, 3),
    roleArns,
    workloadRoleArns: roleArns.slice(3),
    root: {
      type: "Root",
      identity: { ...rootBase, accessKeyId: `ASIA${draw.upperAlphanumeric(16)}` },
      consoleIdentity: rootBase,
      arn: rootBase.arn,
    },
    ipAddresses: Array.from(
      { length: 12 },
      () => `${draw.pick(DOCUMENTATION_NETWORKS)}.${1 + draw.int(254)}`,
    ),
    instanceIds: Array.from({ length: 12 }, () => `i-${draw.hex(17)}`),
    securityGroupIds: Array.from({ length: 3 }, () => `sg-${draw.hex(17)}`),
    buckets: ["app-assets", "backups", "data-lake"].map((name) => `${name}-${id}`),
    kmsKeys: regions.map((region) =>
      Array.from({ length: 2 }, () => {
        const arn = `arn:aws:kms:${region}:${id}:key/${draw.uuid()}`;
        return { arn, resources: [{ accountId: id, type: "AWS::KMS::Key", ARN: arn }] };
      }),
    ),
  });
}

const serviceActors = new Map<string, Actor>();

/** The shared identity of an AWS service calling on its own behalf. */
export function serviceActor(service: string): Actor {
  let actor = serviceActors.get(service);
  if (!actor) {
    const identity = deepFreeze({ type: "AWSService", invokedBy: service });
    actor = { type: "AWSService", identity, consoleIdentity: identity, arn: service };
    serviceActors.set(service, actor);
  }
  return actor;
}

const INSTANCE_TYPES = ["t3.micro", "t3.large", "m5.xlarge", "c6i.2xlarge", "r6g.large"];
const IMAGE_IDS = ["ami-0c02fb55956c7d316", "ami-0a8e758f5e873d1c1", "ami-05fa00d4c63e32376"];
const PARAMETERS = [
  "/app/prod/db-host",
  "/app/prod/feature-flags",
  "/cwagent/config",
  "/app/staging/api-url",
];
const SECRETS = ["prod/db/password", "prod/api/stripe-key", "staging/db/password"];
const LOG_GROUPS = ["/aws/lambda/orders-api", "/aws/lambda/thumbnailer", "/ecs/app-backend"];
const MANAGED_POLICIES = [
  "ReadOnlyAccess",
  "AmazonS3FullAccess",
  "AdministratorAccess",
  "AmazonEC2FullAccess",
];

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** How IAM and STS write dates in responseElements: `Nov 26, 2026, 12:05:12 PM` (UTC). */
function responseDate(time: number): string {
  const date = new Date(time);
  const hours = date.getUTCHours();
  const minutes = String(date.getUTCMinutes()).padStart(2, "0");
  const seconds = String(date.getUTCSeconds()).padStart(2, "0");
  return `${MONTHS[date.getUTCMonth()]} ${date.getUTCDate()}, ${date.getUTCFullYear()}, ${hours % 12 || 12}:${minutes}:${seconds} ${hours < 12 ? "AM" : "PM"}`;
}

function instanceSet(instanceId: string) {
  return { items: [{ instanceId }] };
}

function stateChange(call: Call, request: unknown, current: [number, string], previous: [number, string]) {
  const items = (request as { instancesSet: { items: { instanceId: string }[] } }).instancesSet.items;
  return {
    requestId: call.draw.uuid(),
    instancesSet: {
      items: items.map(({ instanceId }) => ({
        instanceId,
        currentState: { code: current[0], name: current[1] },
        previousState: { code: previous[0], name: previous[1] },
      })),
    },
  };
}

function bucketHost(call: Call, bucket: string): string {
  return `${bucket}.s3.${call.region}.amazonaws.com`;
}

function roleName(arn: string): string {
  return arn.slice(arn.lastIndexOf("/") + 1);
}

function kmsKeyResources(call: Call, request: unknown): readonly unknown[] {
  const { keyId } = request as { keyId: string };
  return call.account.kmsKeys[call.regionIndex]!.find((key) => key.arn === keyId)!.resources;
}

const EC2_DESCRIBE_INSTANCES = deepFreeze({ instancesSet: {}, filterSet: {} });
const EC2_DESCRIBE_SECURITY_GROUPS = deepFreeze({
  securityGroupSet: {},
  securityGroupIdSet: {},
  filterSet: {},
});
const EC2_DESCRIBE_VOLUMES = deepFreeze({ volumeSet: {}, filterSet: {} });
const EC2_DESCRIBE_REGIONS = deepFreeze({ regionSet: {} });
const KMS_DECRYPT = deepFreeze({ encryptionAlgorithm: "SYMMETRIC_DEFAULT" });
const S3_LIST_BUCKETS = deepFreeze({ Host: "s3.amazonaws.com" });
const LOGS_DESCRIBE_LOG_GROUPS = deepFreeze({ limit: 50 });
const CLOUDTRAIL_DESCRIBE_TRAILS = deepFreeze({ trailNameList: [], includeShadowTrails: true });
const IAM_LIST_ROLES = deepFreeze({ maxItems: 100 });
const ACK = (call: Call) => ({ requestId: call.draw.uuid(), _return: true });

/** The management events drawn from. */
export const EVENTS: readonly EventSpec[] = [
  // Reads: the bulk of any trail.
  {
    source: "kms.amazonaws.com",
    name: "Decrypt",
    weight: 160,
    readOnly: true,
    services: [
      "s3.amazonaws.com",
      "secretsmanager.amazonaws.com",
      "ssm.amazonaws.com",
      "lambda.amazonaws.com",
    ],
    request: () => KMS_DECRYPT,
    resources: (call) => call.draw.pick(call.account.kmsKeys[call.regionIndex]!).resources,
  },
  {
    source: "ec2.amazonaws.com",
    name: "DescribeInstances",
    weight: 110,
    readOnly: true,
    services: ["autoscaling.amazonaws.com", "ssm.amazonaws.com"],
    request: () => EC2_DESCRIBE_INSTANCES,
  },
  {
    source: "sts.amazonaws.com",
    name: "AssumeRole",
    weight: 110,
    readOnly: true,
    services: ["lambda.amazonaws.com", "ec2.amazonaws.com", "ecs-tasks.amazonaws.com"],
    request: (call) => ({
      roleArn: call.draw.pick(
        call.actor.type === "AWSService" ? call.account.workloadRoleArns : call.account.roleArns,
      ),
      roleSessionName: call.actor.type === "AWSService" ? call.draw.hex(32) : `botocore-session-${call.time}`,
      durationSeconds: 3600,
    }),
    response: (call, request) => {
      const { roleArn, roleSessionName } = request as { roleArn: string; roleSessionName: string };
      return {
        credentials: {
          accessKeyId: `ASIA${call.draw.upperAlphanumeric(16)}`,
          expiration: responseDate(call.time + 3_600_000),
        },
        assumedRoleUser: {
          assumedRoleId: `AROA${call.draw.upperAlphanumeric(16)}:${roleSessionName}`,
          arn: `arn:aws:sts::${call.account.id}:assumed-role/${roleName(roleArn)}/${roleSessionName}`,
        },
      };
    },
    resources: (call, request) => [
      { accountId: call.account.id, type: "AWS::IAM::Role", ARN: (request as { roleArn: string }).roleArn },
    ],
  },
  { source: "sts.amazonaws.com", name: "GetCallerIdentity", weight: 70, readOnly: true, request: () => null },
  {
    source: "kms.amazonaws.com",
    name: "GenerateDataKey",
    weight: 45,
    readOnly: true,
    services: ["s3.amazonaws.com"],
    request: (call) => ({
      keyId: call.draw.pick(call.account.kmsKeys[call.regionIndex]!).arn,
      keySpec: "AES_256",
    }),
    resources: kmsKeyResources,
  },
  {
    source: "ec2.amazonaws.com",
    name: "DescribeSecurityGroups",
    weight: 35,
    readOnly: true,
    request: () => EC2_DESCRIBE_SECURITY_GROUPS,
  },
  {
    source: "ssm.amazonaws.com",
    name: "GetParameter",
    weight: 30,
    readOnly: true,
    request: (call) => ({ name: call.draw.pick(PARAMETERS), withDecryption: true }),
  },
  {
    source: "s3.amazonaws.com",
    name: "GetBucketAcl",
    weight: 25,
    readOnly: true,
    services: ["config.amazonaws.com"],
    request: (call) => {
      const bucketName = call.draw.pick(call.account.buckets);
      return { bucketName, Host: bucketHost(call, bucketName), acl: "" };
    },
  },
  {
    source: "s3.amazonaws.com",
    name: "ListBuckets",
    weight: 20,
    readOnly: true,
    global: true,
    request: () => S3_LIST_BUCKETS,
  },
  {
    source: "ec2.amazonaws.com",
    name: "DescribeVolumes",
    weight: 20,
    readOnly: true,
    request: () => EC2_DESCRIBE_VOLUMES,
  },
  {
    source: "secretsmanager.amazonaws.com",
    name: "GetSecretValue",
    weight: 20,
    readOnly: true,
    request: (call) => ({ secretId: call.draw.pick(SECRETS) }),
  },
  {
    source: "logs.amazonaws.com",
    name: "DescribeLogGroups",
    weight: 18,
    readOnly: true,
    request: () => LOGS_DESCRIBE_LOG_GROUPS,
  },
  {
    source: "iam.amazonaws.com",
    name: "GetRole",
    weight: 15,
    readOnly: true,
    global: true,
    request: (call) => ({ roleName: roleName(call.draw.pick(call.account.roleArns)) }),
  },
  {
    source: "iam.amazonaws.com",
    name: "ListRoles",
    weight: 12,
    readOnly: true,
    global: true,
    request: () => IAM_LIST_ROLES,
  },
  {
    source: "lambda.amazonaws.com",
    name: "ListFunctions20150331",
    weight: 12,
    readOnly: true,
    request: () => null,
  },
  {
    source: "ec2.amazonaws.com",
    name: "DescribeRegions",
    weight: 10,
    readOnly: true,
    request: () => EC2_DESCRIBE_REGIONS,
  },
  {
    source: "cloudtrail.amazonaws.com",
    name: "DescribeTrails",
    weight: 5,
    readOnly: true,
    request: () => CLOUDTRAIL_DESCRIBE_TRAILS,
  },
  // Writes: rarer, and what routes usually look for.
  {
    source: "logs.amazonaws.com",
    name: "CreateLogStream",
    weight: 15,
    readOnly: false,
    request: (call) => ({
      logGroupName: call.draw.pick(LOG_GROUPS),
      logStreamName: `${new Date(call.time).toISOString().slice(0, 10).replaceAll("-", "/")}/[$LATEST]${call.draw.hex(32)}`,
    }),
  },
  {
    source: "ec2.amazonaws.com",
    name: "CreateTags",
    weight: 6,
    readOnly: false,
    services: ["autoscaling.amazonaws.com"],
    request: (call) => ({
      resourcesSet: { items: [{ resourceId: call.draw.pick(call.account.instanceIds) }] },
      tagSet: { items: [{ key: "Name", value: `web-${call.draw.int(40)}` }] },
    }),
    response: ACK,
  },
  {
    source: "ec2.amazonaws.com",
    name: "RunInstances",
    weight: 4,
    readOnly: false,
    services: ["autoscaling.amazonaws.com"],
    request: (call) => ({
      instancesSet: { items: [{ imageId: call.draw.pick(IMAGE_IDS), minCount: 1, maxCount: 1 }] },
      instanceType: call.draw.pick(INSTANCE_TYPES),
      blockDeviceMapping: {},
      monitoring: { enabled: false },
      disableApiTermination: false,
      disableApiStop: false,
      clientToken: call.draw.uuid(),
    }),
    response: (call, request) => {
      const { instancesSet, instanceType } = request as {
        instancesSet: { items: { imageId: string }[] };
        instanceType: string;
      };
      const privateIp = `10.0.${call.draw.int(256)}.${1 + call.draw.int(254)}`;
      return {
        requestId: call.draw.uuid(),
        reservationId: `r-${call.draw.hex(17)}`,
        ownerId: call.account.id,
        groupSet: {},
        instancesSet: {
          items: [
            {
              instanceId: call.draw.pick(call.account.instanceIds),
              imageId: instancesSet.items[0]!.imageId,
              instanceState: { code: 0, name: "pending" },
              privateDnsName: `ip-${privateIp.replaceAll(".", "-")}.${call.region}.compute.internal`,
              amiLaunchIndex: 0,
              productCodes: {},
              instanceType,
              launchTime: call.time,
              placement: { availabilityZone: `${call.region}a`, tenancy: "default" },
              monitoring: { state: "disabled" },
              privateIpAddress: privateIp,
              groupSet: {
                items: [{ groupId: call.draw.pick(call.account.securityGroupIds), groupName: "default" }],
              },
            },
          ],
        },
      };
    },
  },
  {
    source: "ec2.amazonaws.com",
    name: "TerminateInstances",
    weight: 3,
    readOnly: false,
    services: ["autoscaling.amazonaws.com"],
    request: (call) => ({ instancesSet: instanceSet(call.draw.pick(call.account.instanceIds)) }),
    response: (call, request) => stateChange(call, request, [32, "shutting-down"], [16, "running"]),
  },
  {
    source: "signin.amazonaws.com",
    name: "ConsoleLogin",
    weight: 3,
    readOnly: false,
    global: true,
    request: () => null,
  },
  {
    source: "ec2.amazonaws.com",
    name: "StopInstances",
    weight: 2,
    readOnly: false,
    request: (call) => ({
      instancesSet: instanceSet(call.draw.pick(call.account.instanceIds)),
      force: false,
    }),
    response: (call, request) => stateChange(call, request, [64, "stopping"], [16, "running"]),
  },
  {
    source: "ec2.amazonaws.com",
    name: "StartInstances",
    weight: 2,
    readOnly: false,
    request: (call) => ({ instancesSet: instanceSet(call.draw.pick(call.account.instanceIds)) }),
    response: (call, request) => stateChange(call, request, [0, "pending"], [80, "stopped"]),
  },
  {
    source: "ec2.amazonaws.com",
    name: "ModifyInstanceAttribute",
    weight: 2,
    readOnly: false,
    request: (call) => ({
      instanceId: call.draw.pick(call.account.instanceIds),
      instanceType: { value: call.draw.pick(INSTANCE_TYPES) },
    }),
    response: ACK,
  },
  {
    source: "ec2.amazonaws.com",
    name: "AuthorizeSecurityGroupIngress",
    weight: 1,
    readOnly: false,
    request: (call) => {
      const port = call.draw.pick([22, 443, 3389, 5432]);
      return {
        groupId: call.draw.pick(call.account.securityGroupIds),
        ipPermissions: {
          items: [
            {
              ipProtocol: "tcp",
              fromPort: port,
              toPort: port,
              groups: {},
              ipRanges: { items: [{ cidrIp: call.draw.float() < 0.3 ? "0.0.0.0/0" : "10.0.0.0/16" }] },
              ipv6Ranges: {},
              prefixListIds: {},
            },
          ],
        },
      };
    },
    response: ACK,
  },
  {
    source: "iam.amazonaws.com",
    name: "CreateUser",
    weight: 0.6,
    readOnly: false,
    global: true,
    request: (call) => ({ userName: `svc-${call.draw.hex(6)}` }),
    response: (call, request) => {
      const { userName } = request as { userName: string };
      return {
        user: {
          path: "/",
          userName,
          userId: `AIDA${call.draw.upperAlphanumeric(16)}`,
          arn: `arn:aws:iam::${call.account.id}:user/${userName}`,
          createDate: responseDate(call.time),
        },
      };
    },
  },
  {
    source: "iam.amazonaws.com",
    name: "AttachRolePolicy",
    weight: 0.5,
    readOnly: false,
    global: true,
    request: (call) => ({
      roleName: roleName(call.draw.pick(call.account.roleArns)),
      policyArn: `arn:aws:iam::aws:policy/${call.draw.pick(MANAGED_POLICIES)}`,
    }),
  },
  {
    source: "iam.amazonaws.com",
    name: "DeleteUser",
    weight: 0.4,
    readOnly: false,
    global: true,
    request: (call) => ({ userName: `svc-${call.draw.hex(6)}` }),
  },
  {
    source: "iam.amazonaws.com",
    name: "CreateAccessKey",
    weight: 0.3,
    readOnly: false,
    global: true,
    request: (call) => ({ userName: call.draw.pick(USER_NAMES) }),
    response: (call, request) => ({
      accessKey: {
        accessKeyId: `AKIA${call.draw.upperAlphanumeric(16)}`,
        status: "Active",
        userName: (request as { userName: string }).userName,
        createDate: responseDate(call.time),
      },
    }),
  },
  {
    source: "s3.amazonaws.com",
    name: "PutBucketPolicy",
    weight: 0.3,
    readOnly: false,
    request: (call) => {
      const bucketName = call.draw.pick(call.account.buckets);
      return {
        bucketName,
        Host: bucketHost(call, bucketName),
        policy: "",
        bucketPolicy: {
          Version: "2012-10-17",
          Statement: [
            {
              Effect: "Allow",
              Principal: { AWS: `arn:aws:iam::${call.account.id}:root` },
              Action: "s3:GetObject",
              Resource: `arn:aws:s3:::${bucketName}/*`,
            },
          ],
        },
      };
    },
  },
  {
    source: "s3.amazonaws.com",
    name: "CreateBucket",
    weight: 0.3,
    readOnly: false,
    request: (call) => {
      const bucketName = `tmp-${call.draw.hex(8)}-${call.account.id}`;
      return {
        bucketName,
        Host: bucketHost(call, bucketName),
        CreateBucketConfiguration: { LocationConstraint: call.region },
      };
    },
  },
];

/** The event `ConsoleLogin`, whose shape differs from API calls. */
export const CONSOLE_LOGIN = EVENTS.find((event) => event.name === "ConsoleLogin")!;

export const USER_AGENTS = [
  "aws-cli/2.17.20 md/awscrt#0.20.11 ua/2.0 os/linux#6.1.97 md/arch#x86_64 lang/python#3.11.9 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/distrib#amzn.2023 md/prompt#off",
  "Boto3/1.34.144 md/Botocore#1.34.144 ua/2.0 os/linux#5.10.220-209.869.amzn2.x86_64 md/arch#x86_64 lang/python#3.12.4 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.144",
  "aws-sdk-go-v2/1.30.3 os/linux lang/go#1.22.5 md/GOOS#linux md/GOARCH#amd64 api/ec2#1.171.0",
  "aws-sdk-js/3.614.0 ua/2.0 os/linux#5.10.219 lang/js md/nodejs#20.15.1 api/sts#3.614.0",
  "APN/1.0 HashiCorp/1.0 Terraform/1.9.2 (+https://www.terraform.io) terraform-provider-aws/5.59.0 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.30.3 os/linux lang/go#1.22.5",
  "AWS Internal",
] as const;

export const BROWSER_USER_AGENT =
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36";

export const CONSOLE_LOGIN_DATA = deepFreeze({
  withMfa: { LoginTo: "https://console.aws.amazon.com/console/home", MobileVersion: "No", MFAUsed: "Yes" },
  withoutMfa: { LoginTo: "https://console.aws.amazon.com/console/home", MobileVersion: "No", MFAUsed: "No" },
  success: { ConsoleLogin: "Success" },
  failure: { ConsoleLogin: "Failure" },
});
