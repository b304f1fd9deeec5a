/**
 * The four contracts of a pipeline: Source → Decoder → Matcher → Sink, and the Envelope
 * that carries one unit of work (one SQS message) from receive to ack.
 */

/** A CloudTrail record, as CloudTrail wrote it. Only the fields the router reads are typed. */
export interface TrailRecord {
  eventID?: string;
  eventName?: string;
  eventSource?: string;
  eventTime?: string;
  awsRegion?: string;
  recipientAccountId?: string;
  [field: string]: unknown;
}

/** Where an object lives in S3. */
export interface ObjectLocation {
  readonly bucket: string;
  readonly key: string;
}

/** An object announced by a notification, fetched and ready to decode. */
export interface SourceObject extends ObjectLocation {
  readonly body: Uint8Array;
}

/**
 * One unit of work, acknowledged as a whole. For the SQS source: one message, which may
 * announce several objects. The runtime calls exactly one of `ack` or `nack`.
 */
export interface Envelope {
  /** The message id, for logs and errors. */
  readonly id: string;
  /** How many times the message has been received (ApproximateReceiveCount); 1 the first time. */
  readonly receiveCount: number;
  /**
   * The announced objects, fetched one by one as the iterator is pulled. Throws a typed
   * TrailrouterError (NotificationError, ObjectFetchError, ...) when the message cannot be
   * understood or an object cannot be read; the runtime then nacks the envelope.
   */
  objects(): AsyncIterable<SourceObject>;
  /** Every routed record reached every sink: remove the message for good. */
  ack(): Promise<void>;
  /** Processing failed: give the message back for redelivery (or the queue's redrive policy). */
  nack(error: Error): Promise<void>;
  /** Push the visibility deadline `seconds` from now, for work that outlives it. */
  extend?(seconds: number): Promise<void>;
  /**
   * Asked when processing failed: for a message that keeps failing and should be set aside rather
   * than given back, the record to deliver to `sink` (a sink of the pipeline). The runtime
   * delivers it, then acks the envelope (the message leaves its queue); if that delivery fails,
   * it nacks as usual. Undefined: nack.
   */
  deadLetter?(error: Error): MessageDeadLetter | undefined;
}

/** A failing message set aside: one record that describes it, for one sink of the pipeline. */
export interface MessageDeadLetter {
  readonly sink: string;
  readonly record: TrailRecord;
}

export interface ReceiveOptions {
  /** Stop receiving when aborted (shutdown). Envelopes already handed out stay valid. */
  readonly signal: AbortSignal;
  /** End the iteration once the source has nothing new to give (the queue answered empty). */
  readonly once: boolean;
}

export interface Source {
  /**
   * Envelopes as they arrive. The source bounds how many it has handed out and not yet seen
   * settled (ack/nack): the runtime may process every envelope it gets concurrently.
   */
  receive(options: ReceiveOptions): AsyncIterable<Envelope>;
  /**
   * Release the source. Envelopes handed out and not yet settled are given back at once
   * (redelivered as soon as possible); their later `ack`/`nack` do nothing.
   */
  close(): Promise<void>;
}

/** What the runtime tells a decoder about the records it wants. A decoder may ignore it. */
export interface DecodeOptions {
  /**
   * False only for a record that no route can match, given the JSON text that the decoder would
   * JSON.parse into that record, exactly as it is in the object. A decoder may then leave the
   * record unparsed and not yield it, reporting it to `skipped` instead. A decoder whose records
   * are not the parse of a piece of text must not use it.
   */
  mayMatch?(recordJson: string): boolean;
  /** Called once for each record left out because `mayMatch` was false, so that every record is counted. */
  skipped?(): void;
}

export interface Decoder {
  /** The records of one object. Throws a DecodeError (with bucket and key) for bad content. */
  decode(object: SourceObject, options?: DecodeOptions): Iterable<TrailRecord> | AsyncIterable<TrailRecord>;
}

export interface Matcher {
  matches(record: TrailRecord): boolean;
}

/**
 * Several routes matched at once, in one pass over each record: what a matcher plugin's
 * `compileSet` returns for the routes of a pipeline that use it.
 */
export interface MatcherSet {
  /** Positions, in the routes given to `compileSet`, of the routes `record` matches: ascending. */
  matchIndices(record: TrailRecord): readonly number[];
  /**
   * False only when no route of the set can match the record whose JSON text is `recordJson`
   * (see DecodeOptions.mayMatch). Leave it out when the set cannot tell from the text.
   */
  mayMatch?(recordJson: string): boolean;
}

/** One record a sink could not deliver, and why. */
export interface FailedDelivery {
  readonly record: TrailRecord;
  readonly error: Error;
  /**
   * True when this record can never be delivered to this sink, whatever is retried (larger than
   * the service accepts, content the service refuses for the entry itself). Absent or false: the
   * failure may pass later (throttling, an outage, a missing queue or a denied request), so the
   * message is kept for redelivery. A permanent failure may go to the pipeline's
   * `recordDeadLetter` sink instead of blocking the rest of its file.
   */
  readonly permanent?: boolean;
}

/** What happened to a `deliver` call: every record not listed in `failed` was delivered. */
export interface DeliveryResult {
  readonly delivered: number;
  readonly failed: readonly FailedDelivery[];
}

export interface Sink {
  /**
   * The longest record, as the UTF-8 bytes of its JSON text (`JSON.stringify`), this sink could
   * ever deliver, if it has such a limit. The runtime refuses a longer record (`RecordTooLarge`,
   * permanent) without calling `deliver`, so a huge record is not encoded for every sink.
   */
  readonly maxRecordBytes?: number;
  /**
   * Deliver the records (batching, size limits and per-entry retries are the sink's job).
   * Never throws for a record-level failure: it is listed in the result instead.
   */
  deliver(records: readonly TrailRecord[]): Promise<DeliveryResult>;
  close(): Promise<void>;
}
