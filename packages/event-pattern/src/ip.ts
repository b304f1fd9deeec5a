/**
 * IP addresses as numbers, for `cidr` blocks and for the index that looks blocks up by address.
 * Both families live in one 128-bit space, as node's BlockList compares them: an IPv4 address
 * a.b.c.d is the IPv4-mapped IPv6 address ::ffff:a.b.c.d.
 */

/** The 32-bit value of a dotted-quad address that `isIP` has accepted. */
export function ipv4ToInteger(address: string): number {
  let value = 0;
  let octet = 0;
  for (let i = 0; i < address.length; i++) {
    const code = address.charCodeAt(i);
    if (code === 46 /* . */) {
      value = value * 256 + octet;
      octet = 0;
    } else {
      octet = octet * 10 + (code - 48);
    }
  }
  return value * 256 + octet;
}

/**
 * The 32-bit value of `text` if it is a dotted-quad IPv4 address as `isIP` accepts it (four
 * decimal octets up to 255, no leading zeros), else -1. Cheaper than `isIP` on the strings
 * CloudTrail puts in address fields, most of which are service names.
 */
export function parseIpv4(text: string): number {
  const length = text.length;
  if (length < 7 || length > 15) return -1;
  let value = 0;
  let octets = 0;
  let i = 0;
  while (i <= length) {
    const start = i;
    let octet = 0;
    while (i < length) {
      const code = text.charCodeAt(i);
      if (code < 48 || code > 57) break;
      octet = octet * 10 + (code - 48);
      i++;
    }
    const digits = i - start;
    if (digits === 0 || digits > 3 || octet > 255 || (digits > 1 && text.charCodeAt(start) === 48)) return -1;
    value = value * 256 + octet;
    octets++;
    if (i === length) return octets === 4 ? value : -1;
    if (octets === 4 || text.charCodeAt(i) !== 46 /* . */) return -1;
    i++;
  }
  return -1;
}

/** The mask of the first `bits` bits of a 32-bit word, 0 ≤ bits ≤ 32. */
export function wordMask(bits: number): number {
  return bits <= 0 ? 0 : bits >= 32 ? 0xffffffff : (~0 << (32 - bits)) >>> 0;
}

/**
 * Parse an IPv6 address that `isIP` has accepted (any spelling: `::` compression, leading
 * zeros, upper case, a dotted IPv4 tail, a `%zone`) into four 32-bit words, most significant
 * first. Returns false, leaving `words` unspecified, for a spelling it does not know.
 */
export function parseIpv6(address: string, words: Uint32Array): boolean {
  const zone = address.indexOf("%");
  const text = zone < 0 ? address : address.slice(0, zone);
  const gap = text.indexOf("::");
  const head = gap < 0 ? text : text.slice(0, gap);
  const tail = gap < 0 ? "" : text.slice(gap + 2);
  const groups: number[] = [];
  const headGroups = parseGroups(head, gap < 0, groups);
  if (headGroups < 0) return false;
  const tailGroups = parseGroups(tail, true, groups);
  if (tailGroups < 0) return false;
  const missing = 8 - headGroups - tailGroups;
  if (gap < 0 ? missing !== 0 : missing < 1) return false;
  const full = [...groups.slice(0, headGroups), ...new Array<number>(gap < 0 ? 0 : missing).fill(0)];
  full.push(...groups.slice(headGroups));
  for (let w = 0; w < 4; w++) words[w] = (full[2 * w]! * 0x10000 + full[2 * w + 1]!) >>> 0;
  return true;
}

/**
 * Appends the 16-bit groups of `text` (hex groups separated by `:`, the last one maybe a dotted
 * IPv4 address when `last`) and returns how many, or -1 if `text` is not such a list.
 */
function parseGroups(text: string, last: boolean, groups: number[]): number {
  if (text === "") return 0;
  const parts = text.split(":");
  let count = 0;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    if (last && i === parts.length - 1 && part.includes(".")) {
      if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(part)) return -1;
      const value = ipv4ToInteger(part);
      groups.push(Math.floor(value / 0x10000), value % 0x10000);
      count += 2;
    } else {
      if (!/^[0-9a-fA-F]{1,4}$/.test(part)) return -1;
      groups.push(Number.parseInt(part, 16));
      count++;
    }
  }
  return count;
}
