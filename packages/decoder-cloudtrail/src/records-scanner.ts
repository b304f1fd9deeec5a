/**
 * Finds the records of a CloudTrail log in its JSON text, given a piece at a time. The scanner
 * walks the top level of the document (`{"Records": [...]}`, with other keys in any order), cuts
 * each value out of the text and hands that exact slice to JSON.parse. It only looks for the end
 * of a value (brackets and quotes, outside strings); what is inside is left to JSON.parse, so a
 * record is checked as strictly as if the whole document had been parsed at once.
 *
 * Errors are ranked as a whole-document JSON.parse would rank them: a syntax error is thrown as
 * soon as it is seen; a document that is valid JSON but not a log (no Records, Records not an
 * array, a record that is not an object) stops the records but is only thrown at the end, once
 * the rest of the text is known to be valid JSON.
 *
 * Given a `mayMatch` test, a record (an object) whose text fails it is not parsed: it is cut by
 * walking its brackets and strings, reported to `skipped`, and not returned. Its structure is
 * checked that way, its contents (literals, commas, colons) are not.
 */
import { DecodeError, type DecodeOptions, type ErrorContext, type TrailRecord } from "@trailrouter/core";

const TAB = 0x09;
const LINE_FEED = 0x0a;
const CARRIAGE_RETURN = 0x0d;
const SPACE = 0x20;
const QUOTE = 0x22;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_BRACKET = 0x5b;
const BACKSLASH = 0x5c;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

// Where the scanner stands, between values.
/** Before the top-level value. */
const DOCUMENT = 0;
/** After `{`: a key or `}`. */
const FIRST_MEMBER = 1;
/** After `,` between members: a key. */
const NEXT_MEMBER = 2;
/** After a key: `:`. */
const AFTER_KEY = 3;
/** After `:`: the member's value. */
const MEMBER_VALUE = 4;
/** After a member's value: `,` or `}`. */
const AFTER_MEMBER = 5;
/** After `"Records": [`: a record or `]`. */
const FIRST_RECORD = 6;
/** After `,` between records: a record. */
const NEXT_RECORD = 7;
/** After a record: `,` or `]`. */
const AFTER_RECORD = 8;
/** After the top-level value: whitespace only. */
const DONE = 9;
/** Inside a value, looking for its end. */
const CUTTING = 10;

// What the value being cut is, hence what follows it.
const DOCUMENT_VALUE = 0;
const KEY = 1;
const MEMBER = 2;
const RECORD = 3;

// How the end of the value being cut is found.
/** An object or array: the bracket that closes the first one. */
const CONTAINER = 0;
/** A string: its closing quote. */
const STRING = 1;
/** A number, `true`, `false` or `null`: the next delimiter or whitespace. */
const LITERAL = 2;

/** A record is guessed only from a first key up to this long. */
const MAX_RECORD_HEAD = 64;
/** The most records cut by walking through them after a wrong guess. */
const MAX_GUESS_PAUSE = 1024;
const NO_GUESS = Symbol("no guess");

/** The object being decoded, for the errors. */
export interface ScannedObject {
  /** `s3://bucket/key`, to start messages with. */
  readonly where: string;
  readonly context: ErrorContext;
}

export class RecordsScanner {
  private text = "";
  private pos = 0;
  private state = DOCUMENT;

  // The value being cut.
  private role = DOCUMENT_VALUE;
  private kind = CONTAINER;
  /** Where the value starts in `text` (0 once it began in an earlier text). */
  private start = 0;
  /** Its beginning, from earlier texts. */
  private pieces: string[] = [];
  /** Brackets open in it. */
  private depth = 0;
  private inString = false;
  /** The previous text ended inside a string with an odd run of backslashes. */
  private escapePending = false;

  /** The member being read is the Records array. */
  private memberIsRecords = false;
  private recordsSeen = false;
  /** Index in Records of the next record. */
  private index = 0;
  /** How the last record guessed began: `{` and its first key, up to the colon. */
  private recordHead = "";
  /** `},` and `recordHead`: the likely end of a record and start of the next. */
  private nextRecordMarker = "";
  /** Records to cut by walking through them before guessing again. */
  private guessesPaused = 0;
  private pauseAfterWrongGuess = 0;
  /** The document is valid JSON so far but not a log: thrown at the end unless the JSON breaks. */
  private notALog: DecodeError | undefined;

  private readonly mayMatch: ((recordJson: string) => boolean) | undefined;
  private readonly skipped: (() => void) | undefined;
  /**
   * The end of the guessed record at `start` whose text failed `mayMatch`, or -1: if walking
   * through the record ends there, the guess was right and the record is skipped without
   * testing its text again.
   */
  private ruledOutEnd = -1;

  constructor(
    private readonly object: ScannedObject,
    filter: DecodeOptions = {},
  ) {
    this.mayMatch = filter.mayMatch?.bind(filter);
    this.skipped = filter.skipped?.bind(filter);
  }

  /** Take the next piece of text. Call only once `next()` has returned undefined. */
  push(text: string): void {
    if (this.state === CUTTING) {
      if (this.start < this.text.length) this.pieces.push(this.text.slice(this.start));
      this.start = 0;
    }
    this.text = text;
    this.pos = 0;
    this.ruledOutEnd = -1;
  }

  /** The next record in the text pushed so far, or undefined when more text is needed. */
  next(): TrailRecord | undefined {
    const text = this.text;
    const length = text.length;
    while (this.pos < length) {
      if (this.state === CUTTING) {
        if (this.role === RECORD && this.kind === CONTAINER && this.pos === this.start) {
          const guessed = this.guessRecord();
          if (guessed !== NO_GUESS) {
            if (this.notALog === undefined) return guessed;
            continue;
          }
        }
        if (!this.cut()) return undefined;
        const record = this.valueCut();
        if (record !== undefined) return record;
        continue;
      }
      const char = text.charCodeAt(this.pos);
      if (char === SPACE || char === LINE_FEED || char === CARRIAGE_RETURN || char === TAB) this.pos++;
      else this.structure(char);
    }
    return undefined;
  }

  /** The text is over: throws if the document is incomplete or is not a log. */
  end(): void {
    // A literal is the one value that the end of the text completes (`null`, `12`).
    if (this.state === CUTTING && this.kind === LITERAL) this.valueCut();
    if (this.state !== DONE) {
      throw this.syntaxError(
        this.state === DOCUMENT ? "there is no JSON value" : "the JSON text ends before the document does",
      );
    }
    if (this.notALog !== undefined) throw this.notALog;
  }

  /** A character between values, in any state but CUTTING. */
  private structure(char: number): void {
    switch (this.state) {
      case DOCUMENT:
        if (char === OPEN_BRACE) this.step(FIRST_MEMBER);
        else this.beginValue(DOCUMENT_VALUE, char);
        break;
      case FIRST_MEMBER:
        if (char === CLOSE_BRACE) this.closeDocument();
        else if (char === QUOTE) this.beginValue(KEY, char);
        else throw this.unexpected(char, 'a key or "}"');
        break;
      case NEXT_MEMBER:
        if (char === QUOTE) this.beginValue(KEY, char);
        else throw this.unexpected(char, "a key");
        break;
      case AFTER_KEY:
        if (char === COLON) this.step(MEMBER_VALUE);
        else throw this.unexpected(char, '":"');
        break;
      case MEMBER_VALUE:
        if (this.memberIsRecords && char === OPEN_BRACKET) this.step(FIRST_RECORD);
        else this.beginValue(MEMBER, char);
        break;
      case AFTER_MEMBER:
        if (char === COMMA) this.step(NEXT_MEMBER);
        else if (char === CLOSE_BRACE) this.closeDocument();
        else throw this.unexpected(char, '"," or "}"');
        break;
      case FIRST_RECORD:
        if (char === CLOSE_BRACKET) this.step(AFTER_MEMBER);
        else this.beginValue(RECORD, char);
        break;
      case NEXT_RECORD:
        this.beginValue(RECORD, char);
        break;
      case AFTER_RECORD:
        if (char === COMMA) this.step(NEXT_RECORD);
        else if (char === CLOSE_BRACKET) this.step(AFTER_MEMBER);
        else throw this.unexpected(char, '"," or "]"');
        break;
      default:
        throw this.unexpected(char, "nothing more");
    }
  }

  private step(state: number): void {
    this.pos++;
    this.state = state;
  }

  private closeDocument(): void {
    this.step(DONE);
    if (!this.recordsSeen) this.markNotALog(this.missingRecords());
  }

  private beginValue(role: number, char: number): void {
    if (char === COMMA || char === COLON || char === CLOSE_BRACKET || char === CLOSE_BRACE) {
      throw this.unexpected(char, "a value");
    }
    this.role = role;
    this.state = CUTTING;
    this.start = this.pos;
    if (char === OPEN_BRACE || char === OPEN_BRACKET) {
      this.kind = CONTAINER;
      this.depth = 0;
    } else if (char === QUOTE) {
      this.kind = STRING;
      this.inString = true;
      this.pos++;
    } else {
      this.kind = LITERAL;
    }
  }

  /**
   * Cuts the record starting at `pos` without walking through it, when its end can be guessed:
   * records of a log look alike, so the next one most likely starts like this one, right after
   * `},`. JSON.parse settles the guess: a slice that starts at the record's `{` and parses as
   * JSON ends where the record ends (a JSON object is never the beginning of a longer one).
   * Wrong guesses cost a parse; after one, guessing pauses for longer and longer.
   */
  private guessRecord(): TrailRecord | typeof NO_GUESS {
    if (this.pieces.length > 0) return NO_GUESS;
    if (this.guessesPaused > 0) {
      this.guessesPaused--;
      return NO_GUESS;
    }
    const text = this.text;
    const start = this.start;
    if (this.recordHead.length === 0 || !text.startsWith(this.recordHead, start)) {
      const colon = text.indexOf(":", start);
      if (colon === -1 || colon - start > MAX_RECORD_HEAD) return this.wrongGuess();
      this.recordHead = text.slice(start, colon + 1);
      this.nextRecordMarker = `},${this.recordHead}`;
    }
    const end = text.indexOf(this.nextRecordMarker, start + this.recordHead.length) + 1;
    if (end === 0) return this.wrongGuess();
    const json = text.slice(start, end);
    if (this.mayMatch !== undefined && !this.mayMatch(json)) {
      // Not parsed, so the guess is not proven: walking through the record decides (see valueCut).
      this.ruledOutEnd = end;
      return NO_GUESS;
    }
    let record: TrailRecord;
    try {
      record = JSON.parse(json);
    } catch {
      return this.wrongGuess();
    }
    this.pauseAfterWrongGuess = 0;
    this.pos = end;
    this.state = AFTER_RECORD;
    this.index++;
    return record;
  }

  private wrongGuess(): typeof NO_GUESS {
    this.pauseAfterWrongGuess = Math.min(this.pauseAfterWrongGuess * 2 + 1, MAX_GUESS_PAUSE);
    this.guessesPaused = this.pauseAfterWrongGuess;
    return NO_GUESS;
  }

  /** Moves `pos` to the end of the value being cut, or to the end of the text. True at the end of the value. */
  private cut(): boolean {
    if (this.kind === CONTAINER) return this.cutContainer();
    if (this.kind === STRING) {
      const quote = this.closingQuote(this.pos);
      if (quote === -1) {
        this.pos = this.text.length;
        return false;
      }
      this.inString = false;
      this.pos = quote + 1;
      return true;
    }
    const text = this.text;
    const length = text.length;
    for (let i = this.pos; i < length; i++) {
      const char = text.charCodeAt(i);
      if (
        char === COMMA ||
        char === CLOSE_BRACKET ||
        char === CLOSE_BRACE ||
        char === SPACE ||
        char === LINE_FEED ||
        char === CARRIAGE_RETURN ||
        char === TAB
      ) {
        this.pos = i;
        return true;
      }
    }
    this.pos = length;
    return false;
  }

  private cutContainer(): boolean {
    const text = this.text;
    const length = text.length;
    let i = this.pos;
    if (this.inString) {
      const quote = this.closingQuote(i);
      if (quote === -1) {
        this.pos = length;
        return false;
      }
      this.inString = false;
      i = quote + 1;
    }
    let depth = this.depth;
    while (i < length) {
      const char = text.charCodeAt(i++);
      if (char === QUOTE) {
        // Most strings hold no escaped quote: take the next quote when no backslash precedes it.
        const next = text.indexOf('"', i);
        if (next !== -1 && text.charCodeAt(next - 1) !== BACKSLASH) {
          i = next + 1;
          continue;
        }
        const quote = this.closingQuote(i);
        if (quote === -1) {
          this.inString = true;
          this.depth = depth;
          this.pos = length;
          return false;
        }
        i = quote + 1;
      } else if (char === OPEN_BRACE || char === OPEN_BRACKET) {
        depth++;
      } else if (char === CLOSE_BRACE || char === CLOSE_BRACKET) {
        if (--depth === 0) {
          this.depth = 0;
          this.pos = i;
          return true;
        }
      }
    }
    this.depth = depth;
    this.pos = length;
    return false;
  }

  /**
   * The index of the quote that closes the string going on at `from`, or -1 if the string goes
   * past the end of the text (remembering whether the next text starts with an escaped character).
   */
  private closingQuote(from: number): number {
    const text = this.text;
    let first = from;
    if (this.escapePending) {
      if (from >= text.length) return -1;
      this.escapePending = false;
      first = from + 1;
    }
    let quote = text.indexOf('"', first);
    while (quote !== -1) {
      // A quote after an odd run of backslashes is escaped.
      let before = quote - 1;
      while (before >= first && text.charCodeAt(before) === BACKSLASH) before--;
      if (((quote - 1 - before) & 1) === 0) return quote;
      quote = text.indexOf('"', quote + 1);
    }
    let before = text.length - 1;
    while (before >= first && text.charCodeAt(before) === BACKSLASH) before--;
    this.escapePending = ((text.length - 1 - before) & 1) === 1;
    return -1;
  }

  /** The value between `start` and `pos` is whole: parse it and move on. A record, if one is due. */
  private valueCut(): TrailRecord | undefined {
    const last = this.text.slice(this.start, this.pos);
    let json = last;
    const whole = this.pieces.length === 0;
    if (!whole) {
      this.pieces.push(last);
      json = this.pieces.join("");
      this.pieces = [];
    }
    const ruledOut = whole && this.ruledOutEnd === this.pos;
    this.ruledOutEnd = -1;
    if (
      this.role === RECORD &&
      this.mayMatch !== undefined &&
      json.charCodeAt(0) === OPEN_BRACE &&
      (ruledOut || !this.mayMatch(json))
    ) {
      this.state = AFTER_RECORD;
      this.index++;
      this.skipped?.();
      return undefined;
    }
    let value: unknown;
    try {
      value = JSON.parse(json);
    } catch (error) {
      throw this.syntaxError((error as Error).message, error);
    }
    switch (this.role) {
      case RECORD: {
        this.state = AFTER_RECORD;
        const index = this.index++;
        if (typeof value === "object" && value !== null && !Array.isArray(value)) {
          return this.notALog === undefined ? (value as TrailRecord) : undefined;
        }
        this.markNotALog(
          new DecodeError(
            "RecordNotObject",
            `${this.object.where}: Records[${index}] is ${describe(value)}, not an object`,
            { ...this.object.context, index },
          ),
        );
        return undefined;
      }
      case KEY:
        this.state = AFTER_KEY;
        // A second Records array is read like the first, a record at a time, to be checked.
        this.memberIsRecords = value === "Records";
        if (value === "Records" && this.recordsSeen) {
          this.markNotALog(
            new DecodeError("DuplicateRecords", `${this.object.where} has more than one "Records" field`, {
              ...this.object.context,
            }),
          );
        }
        if (value === "Records") {
          this.recordsSeen = true;
          this.index = 0;
        }
        return undefined;
      case MEMBER:
        this.state = AFTER_MEMBER;
        if (this.memberIsRecords) {
          this.markNotALog(
            new DecodeError(
              "RecordsNotArray",
              `${this.object.where}: "Records" is ${describe(value)}, not an array`,
              { ...this.object.context },
            ),
          );
        }
        return undefined;
      default:
        this.state = DONE;
        this.markNotALog(this.missingRecords());
        return undefined;
    }
  }

  /** Keeps the first reason the document is not a log; records stop here. */
  private markNotALog(error: DecodeError): void {
    this.notALog ??= error;
  }

  private missingRecords(): DecodeError {
    return new DecodeError(
      "MissingRecords",
      `${this.object.where} is not a CloudTrail log: no "Records" field`,
      { ...this.object.context },
    );
  }

  private unexpected(char: number, expected: string): DecodeError {
    return this.syntaxError(`expected ${expected}, found ${JSON.stringify(String.fromCharCode(char))}`);
  }

  /** InvalidJson, naming the record the bad text is in or right after. */
  private syntaxError(reason: string, cause?: unknown): DecodeError {
    const { where, context } = this.object;
    const options = cause === undefined ? undefined : { cause };
    const state = this.state;
    if (state === AFTER_RECORD) {
      const index = this.index - 1;
      return new DecodeError(
        "InvalidJson",
        `${where} is not valid JSON after Records[${index}]: ${reason}`,
        { ...context, index },
        options,
      );
    }
    if (state === FIRST_RECORD || state === NEXT_RECORD || (state === CUTTING && this.role === RECORD)) {
      const index = this.index;
      return new DecodeError(
        "InvalidJson",
        `${where} is not valid JSON in Records[${index}]: ${reason}`,
        { ...context, index },
        options,
      );
    }
    return new DecodeError("InvalidJson", `${where} is not valid JSON: ${reason}`, { ...context }, options);
  }
}

/** "a string", "null", "an array", ... */
function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}
