/**
 * Realistic CloudTrail routes, as an organization's teams would write them: event names and
 * sources, principals, accounts and regions, name prefixes, anything-but, CIDR blocks, errors.
 *
 * Values come half from the corpus being routed (so routes do match) and half from the wider
 * AWS vocabulary of events and principals that a 5-minute sample of traffic does not show (as
 * real rules name events that are rare). Routes are mostly about changes, as CMDB, audit and
 * security routing is: four events named in five are calls that change something (the corpus's
 * `readOnly: false` events), the fifth any call. Same seed, same routes.
 */
import { isIP } from "node:net";
import type { TrailRecord } from "@trailrouter/core";
import { xoroshiro128plus } from "pure-rand/generator/xoroshiro128plus";
import type { RandomGenerator } from "pure-rand/types/RandomGenerator";

export type Route = readonly [name: string, pattern: Record<string, unknown>];

const VERBS = [
  "Create",
  "Delete",
  "Update",
  "Put",
  "Get",
  "List",
  "Describe",
  "Attach",
  "Detach",
  "Tag",
  "Untag",
  "Start",
  "Stop",
  "Modify",
  "Enable",
  "Disable",
];
/** Services and the resources their events name. */
const SERVICES: Record<string, readonly string[]> = {
  "iam.amazonaws.com": ["User", "Role", "Policy", "Group", "AccessKey", "LoginProfile", "InstanceProfile"],
  "s3.amazonaws.com": [
    "Bucket",
    "BucketPolicy",
    "BucketAcl",
    "BucketEncryption",
    "BucketLifecycle",
    "Object",
  ],
  "ec2.amazonaws.com": ["Instances", "Volume", "Snapshot", "SecurityGroup", "Vpc", "Subnet", "RouteTable"],
  "kms.amazonaws.com": ["Key", "Alias", "Grant", "KeyPolicy", "KeyRotation"],
  "lambda.amazonaws.com": ["Function20150331", "Alias20150331", "EventSourceMapping20150331", "Layer"],
  "rds.amazonaws.com": ["DBInstance", "DBCluster", "DBSnapshot", "DBParameterGroup"],
  "dynamodb.amazonaws.com": ["Table", "Backup", "GlobalTable", "ContinuousBackups"],
  "sqs.amazonaws.com": ["Queue", "QueueAttributes", "Permission"],
  "sns.amazonaws.com": ["Topic", "Subscription", "TopicAttributes"],
  "cloudtrail.amazonaws.com": ["Trail", "EventSelectors", "Logging", "EventDataStore"],
  "secretsmanager.amazonaws.com": ["Secret", "SecretValue", "ResourcePolicy"],
  "ssm.amazonaws.com": ["Parameter", "Document", "MaintenanceWindow", "Association"],
  "ecs.amazonaws.com": ["Cluster", "Service", "TaskDefinition", "CapacityProvider"],
  "eks.amazonaws.com": ["Cluster", "Nodegroup", "Addon", "AccessEntry"],
  "logs.amazonaws.com": ["LogGroup", "LogStream", "RetentionPolicy", "SubscriptionFilter"],
  "elasticloadbalancing.amazonaws.com": ["LoadBalancer", "TargetGroup", "Listener", "Rule"],
  "route53.amazonaws.com": ["HostedZone", "HealthCheck", "TrafficPolicy"],
  "cloudfront.amazonaws.com": ["Distribution", "Function", "OriginAccessControl"],
  "guardduty.amazonaws.com": ["Detector", "Filter", "IPSet", "ThreatIntelSet"],
  "organizations.amazonaws.com": ["Account", "Policy", "OrganizationalUnit"],
};
const ROLE_NAMES = [
  "deploy",
  "ci",
  "backup",
  "audit",
  "etl",
  "oncall",
  "readonly",
  "admin",
  "billing",
  "scanner",
];
const TEAMS = [
  "payments",
  "search",
  "identity",
  "data",
  "platform",
  "mobile",
  "web",
  "security",
  "ml",
  "infra",
];
const PREFIXES = ["Create", "Delete", "Put", "Update", "Attach", "Detach", "Disable", "Stop", "Modify"];
const ERROR_CODES = ["AccessDenied", "Client.UnauthorizedOperation", "ThrottlingException"];
const REGIONS = ["us-east-1", "us-east-2", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-2"];

/** What the corpus shows: its events, principals, accounts, regions, addresses and buckets. */
interface Vocabulary {
  readonly events: readonly (readonly [source: string, name: string])[];
  /** The events that change something. */
  readonly changes: readonly (readonly [source: string, name: string])[];
  readonly arns: readonly string[];
  readonly issuers: readonly string[];
  readonly accounts: readonly string[];
  readonly regions: readonly string[];
  readonly addresses: readonly string[];
  readonly buckets: readonly string[];
}

function vocabularyOf(corpus: readonly TrailRecord[]): Vocabulary {
  const distinct = (read: (record: TrailRecord) => unknown) =>
    [...new Set(corpus.map(read).filter((v): v is string => typeof v === "string"))].sort();
  const identity = (record: TrailRecord) => record.userIdentity as Record<string, unknown> | undefined;
  const issuer = (record: TrailRecord) =>
    (identity(record)?.sessionContext as { sessionIssuer?: { userName?: unknown } } | undefined)
      ?.sessionIssuer?.userName;
  return {
    events: distinct((r) => `${r.eventSource} ${r.eventName}`).map(pairOf),
    changes: distinct((r) => (r.readOnly === false ? `${r.eventSource} ${r.eventName}` : undefined)).map(
      pairOf,
    ),
    arns: distinct((r) => identity(r)?.arn),
    issuers: distinct(issuer),
    accounts: distinct((r) => r.recipientAccountId),
    regions: distinct((r) => r.awsRegion),
    addresses: distinct((r) => r.sourceIPAddress).filter((a) => isIP(a) === 4),
    buckets: distinct(
      (r) => (r.requestParameters as { bucketName?: unknown } | null | undefined)?.bucketName,
    ),
  };
}

const pairOf = (pair: string) => pair.split(" ") as unknown as readonly [string, string];

class Draw {
  private readonly rng: RandomGenerator;
  constructor(seed: number) {
    this.rng = xoroshiro128plus(seed);
  }
  float(): number {
    return (this.rng.next() >>> 0) / 2 ** 32;
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.float() * items.length)]!;
  }
  /** From the corpus half the time, else from the wider vocabulary. */
  either<T>(seen: readonly T[], wider: () => T): T {
    return seen.length > 0 && this.float() < 0.5 ? this.pick(seen) : wider();
  }
}

/** `count` routes; the first `n` of them are the same for any count ≥ n, with the same mix of kinds. */
export function realisticRoutes(count: number, corpus: readonly TrailRecord[], seed: number): Route[] {
  const seen = vocabularyOf(corpus);
  const draw = new Draw(seed);
  const services = Object.keys(SERVICES);
  const event = (): readonly [string, string] =>
    draw.either(draw.float() < 0.8 ? seen.changes : seen.events, () => {
      const source = draw.pick(services);
      return [source, `${draw.pick(VERBS)}${draw.pick(SERVICES[source]!)}`] as const;
    });
  const account = () =>
    draw.either(seen.accounts, () => String(100000000000 + Math.floor(draw.float() * 9e11)));
  const region = () => draw.either(seen.regions, () => draw.pick(REGIONS));
  const role = () => draw.either(seen.issuers, () => `${draw.pick(TEAMS)}-${draw.pick(ROLE_NAMES)}`);
  const principal = () =>
    draw.either(
      seen.arns,
      () => `arn:aws:sts::${account()}:assumed-role/${role()}/${draw.pick(TEAMS)}-session`,
    );
  const network = () => {
    const address = draw.either(seen.addresses, () => `198.51.${Math.floor(draw.float() * 256)}.7`);
    return `${address.split(".").slice(0, 3).join(".")}.0/24`;
  };

  const templates: [weight: number, build: () => Record<string, unknown>][] = [
    [
      25,
      () => {
        const [source, name] = event();
        const names = new Set([name, event()[1], event()[1]].slice(0, 1 + Math.floor(draw.float() * 3)));
        return { eventSource: [source], eventName: [...names] };
      },
    ],
    [15, () => ({ eventName: [event()[1]], userIdentity: { arn: [principal()] } })],
    [
      12,
      () => ({
        eventSource: [event()[0]],
        eventName: [{ prefix: draw.pick(PREFIXES) }],
        recipientAccountId: [account()],
      }),
    ],
    [
      10,
      () => ({
        eventSource: [event()[0]],
        awsRegion: [region()],
        userIdentity: { type: [{ "anything-but": ["AWSService"] }] },
        readOnly: [false],
      }),
    ],
    [10, () => ({ sourceIPAddress: [{ cidr: network() }], eventName: [event()[1]] })],
    [
      10,
      () => ({
        eventSource: [event()[0]],
        errorCode: [draw.pick(ERROR_CODES), { prefix: "Client." }],
        recipientAccountId: [account()],
      }),
    ],
    [
      10,
      () => ({
        eventSource: [event()[0]],
        userIdentity: { sessionContext: { sessionIssuer: { userName: [role()] } } },
      }),
    ],
    [
      8,
      () => ({
        eventName: [event()[1]],
        $or: [{ awsRegion: [region()] }, { requestParameters: { bucketName: [{ prefix: bucketPrefix() }] } }],
      }),
    ],
  ];
  const bucketPrefix = () => {
    const bucket = draw.either(seen.buckets, () => `${draw.pick(TEAMS)}-logs-${account()}`);
    return bucket.slice(0, bucket.lastIndexOf("-") + 1);
  };
  const totalWeight = templates.reduce((sum, [weight]) => sum + weight, 0);

  // Templates in a smooth weighted round robin, not drawn at random: every prefix of the list
  // has the mix of the whole, so 10 routes are a miniature of 1,000 and the comparison between
  // route counts measures the count, not a different mix.
  const credit = templates.map(() => 0);
  const template = () => {
    let best = 0;
    templates.forEach(([weight], i) => {
      credit[i]! += weight;
      if (credit[i]! > credit[best]!) best = i;
    });
    credit[best]! -= totalWeight;
    return templates[best]![1];
  };
  return Array.from({ length: count }, (_, i) => [`route-${i}`, template()()] as const);
}
