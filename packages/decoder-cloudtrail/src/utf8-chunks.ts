/**
 * UTF-8 bytes to text, one chunk at a time. A character cut by a chunk boundary is held back (at
 * most 3 bytes) and decoded with the next chunk, so that every chunk is decoded whole, on the fast
 * path of TextDecoder (its streaming mode is several times slower).
 */
const BYTE_ORDER_MARK = 0xfeff;

export class Utf8Chunks {
  private readonly decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
  /** The start of a character whose last bytes are in the next chunk. */
  private held: Uint8Array | undefined;
  private atStart = true;

  /**
   * The text of `bytes`, without a byte order mark at the very start of the whole text (as
   * TextDecoder does by default). Throws a TypeError for bytes that are not UTF-8.
   */
  decode(bytes: Uint8Array): string {
    let whole = bytes;
    if (this.held !== undefined) {
      whole = new Uint8Array(this.held.length + bytes.length);
      whole.set(this.held);
      whole.set(bytes, this.held.length);
      this.held = undefined;
    }
    const complete = completeLength(whole);
    if (complete < whole.length) {
      this.held = whole.slice(complete);
      whole = whole.subarray(0, complete);
    }
    let text = this.decoder.decode(whole);
    if (this.atStart && text.length > 0) {
      this.atStart = false;
      if (text.charCodeAt(0) === BYTE_ORDER_MARK) text = text.slice(1);
    }
    return text;
  }

  /** Throws a TypeError if the bytes ended inside a character. */
  end(): void {
    if (this.held !== undefined) {
      throw new TypeError(`the text ends inside a UTF-8 character (${this.held.length} of its bytes)`);
    }
  }
}

/**
 * How many bytes of `bytes` hold whole characters: all but a character started in the last 3
 * bytes and not finished. A byte that cannot start a character is left for TextDecoder to refuse.
 */
function completeLength(bytes: Uint8Array): number {
  const length = bytes.length;
  for (let i = length - 1; i >= 0 && i >= length - 3; i--) {
    const byte = bytes[i]!;
    if ((byte & 0xc0) === 0x80) continue; // a continuation byte: the character starts before it
    const size = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return i + size > length ? i : length;
  }
  return length;
}
