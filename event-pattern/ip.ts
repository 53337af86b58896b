// IP address parsing for `cidr` matching and for exact matches on IP strings.
// Addresses become { version, value: bigint } so ranges compare as plain integers.

export interface IpAddress {
    version: 4 | 6;
    value: bigint;
}

export interface IpRange {
    version: 4 | 6;
    low: bigint;
    high: bigint;
}

const IPV4_PART = /^(?:0|[1-9][0-9]{0,2})$/;
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

export function parseIPv4(text: string): bigint | undefined {
    const parts = text.split(".");
    if (parts.length !== 4) return undefined;
    let value = 0n;
    for (const part of parts) {
        if (!IPV4_PART.test(part)) return undefined;
        const n = Number(part);
        if (n > 255) return undefined;
        value = (value << 8n) | BigInt(n);
    }
    return value;
}

export function parseIPv6(text: string): bigint | undefined {
    if (text.length < 2 || text.length > 45) return undefined;
    let head: string[];
    let tail: string[];
    const doubleColon = text.indexOf("::");
    if (doubleColon >= 0) {
        if (text.indexOf("::", doubleColon + 1) >= 0) return undefined;
        const left = text.slice(0, doubleColon);
        const right = text.slice(doubleColon + 2);
        head = left === "" ? [] : left.split(":");
        tail = right === "" ? [] : right.split(":");
    } else {
        head = text.split(":");
        tail = [];
    }
    // An embedded IPv4 address (e.g. ::ffff:10.0.0.1) may only be the last group and counts as two groups.
    const groups: number[] = [];
    const all = [...head, ...tail];
    let ipv4Tail: bigint | undefined;
    if (all.length > 0 && all[all.length - 1].includes(".")) {
        ipv4Tail = parseIPv4(all[all.length - 1]);
        if (ipv4Tail === undefined) return undefined;
        if (tail.length > 0) tail.pop();
        else head.pop();
    }
    const explicitGroups = head.length + tail.length + (ipv4Tail !== undefined ? 2 : 0);
    if (doubleColon >= 0 ? explicitGroups > 7 : explicitGroups !== 8) return undefined;
    for (const g of head) {
        if (!HEX_GROUP.test(g)) return undefined;
        groups.push(parseInt(g, 16));
    }
    if (doubleColon >= 0) {
        for (let i = explicitGroups; i < 8; i++) groups.push(0);
    }
    for (const g of tail) {
        if (!HEX_GROUP.test(g)) return undefined;
        groups.push(parseInt(g, 16));
    }
    let value = 0n;
    for (const g of groups) value = (value << 16n) | BigInt(g);
    if (ipv4Tail !== undefined) value = (value << 32n) | ipv4Tail;
    return value;
}

/** Parses an IPv4 or IPv6 literal; undefined when the text is not one. */
export function parseIp(text: string): IpAddress | undefined {
    if (text.includes(":")) {
        const v6 = parseIPv6(text);
        return v6 === undefined ? undefined : { version: 6, value: v6 };
    }
    const v4 = parseIPv4(text);
    return v4 === undefined ? undefined : { version: 4, value: v4 };
}

/** Canonical text for an IP address, so that equivalent spellings compare equal. */
export function ipKey(ip: IpAddress): string {
    return `${ip.version}:${ip.value.toString(16)}`;
}

/**
 * Parses "address/bits". Returns an error reason (string) for an invalid CIDR. As in EventBridge's
 * matcher, host bits may be set, and the mask must be below the address width (/32 and /128 are rejected).
 */
export function parseCidr(text: string): IpRange | string {
    const slashed = text.split("/");
    if (slashed.length !== 2) return "Malformed CIDR, one '/' required";
    if (!/^[+-]?[0-9]+$/.test(slashed[1])) return "Malformed CIDR, mask bits must be an integer";
    const bits = Number(slashed[1]);
    if (bits < 0) return "Malformed CIDR, mask bits must not be negative";
    const ip = parseIp(slashed[0]);
    if (!ip) return `Nonstandard IP address: ${slashed[0]}`;
    const width = ip.version === 4 ? 32 : 128;
    if (bits >= width) return `IPv${ip.version} mask bits must be < ${width}`;
    const hostBits = BigInt(width - bits);
    const hostMask = (1n << hostBits) - 1n;
    const low = ip.value & ~hostMask & ((1n << BigInt(width)) - 1n);
    return { version: ip.version, low, high: low | hostMask };
}

export function ipInRange(ip: IpAddress, range: IpRange): boolean {
    return ip.version === range.version && ip.value >= range.low && ip.value <= range.high;
}
