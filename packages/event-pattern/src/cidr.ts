import { BlockList, isIP } from "node:net";
import { PatternError } from "./errors.js";
import { ipv4ToInteger, parseIpv4, wordMask } from "./ip.js";

/**
 * A `cidr` operand, IPv4 or IPv6. Addresses are compared parsed (node's BlockList), so any
 * spelling of an address in the event matches (`2001:DB8::1`, `2001:db8:0:0::1`), and an
 * IPv4-mapped IPv6 address matches an IPv4 block. Values that are not IP address strings never
 * match.
 */
export class CidrBlock {
  readonly kind = "cidr";
  readonly family: 4 | 6;
  /** The block's address as the pattern wrote it, host bits included. */
  readonly address: string;
  readonly prefixLength: number;
  private readonly block = new BlockList();
  /** An IPv4 block as integers, to test IPv4 addresses without BlockList's per-call allocations. */
  private readonly ipv4: { readonly network: number; readonly mask: number } | undefined;

  constructor(operand: unknown, path: string) {
    if (typeof operand !== "string") throw new PatternError(path, "cidr match pattern must be a string");
    const parts = operand.split("/");
    if (parts.length !== 2) throw new PatternError(path, "Malformed CIDR, one '/' required");
    const [address, bits] = parts as [string, string];
    const family = isIP(address);
    if (family === 0) throw new PatternError(path, `Malformed CIDR, invalid IP address ${address}`);
    const maxBits = family === 4 ? 32 : 128;
    if (!/^\d{1,3}$/.test(bits) || Number(bits) > maxBits) {
      throw new PatternError(path, `Malformed CIDR, mask bits must be an integer from 0 to ${maxBits}`);
    }
    const prefixLength = Number(bits);
    this.family = family === 4 ? 4 : 6;
    this.address = address;
    this.prefixLength = prefixLength;
    this.block.addSubnet(address, prefixLength, family === 4 ? "ipv4" : "ipv6");
    if (family === 4) {
      const mask = wordMask(prefixLength);
      this.ipv4 = { network: (ipv4ToInteger(address) & mask) >>> 0, mask };
    }
  }

  test(value: unknown): boolean {
    if (typeof value !== "string") return false;
    const ipv4 = parseIpv4(value);
    if (ipv4 >= 0) {
      return this.ipv4
        ? (ipv4 & this.ipv4.mask) >>> 0 === this.ipv4.network
        : this.block.check(value, "ipv4");
    }
    return value.includes(":") && isIP(value) === 6 && this.block.check(value, "ipv6");
  }
}
