import { isIP } from 'node:net';
import { optionError } from '@meshless/core';

// A DNS SAN: LDH labels, optionally a leading `*.` wildcard label, at most 253 characters.
const DNS_LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/** Checks the `dnsNames` option: an array of DNS names (a leading `*.` wildcard is allowed). */
export function dnsNamesOption(value: unknown): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw optionError('dnsNames must be an array of DNS names');
  return value.map((name) => {
    if (typeof name !== 'string' || !isDnsName(name)) {
      throw optionError(`invalid DNS name ${JSON.stringify(name)} in dnsNames`);
    }
    return name;
  });
}

/**
 * Checks the `ipAddresses` option: an array of IPv4 or IPv6 addresses (no zone IDs), returned in a
 * form @peculiar/x509 encodes correctly (IPv6 fully expanded, IPv4-mapped IPv6 in hexadecimal).
 */
export function ipAddressesOption(value: unknown): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw optionError('ipAddresses must be an array of IP addresses');
  return value.map((address) => {
    if (typeof address !== 'string')
      throw optionError(`invalid IP address ${JSON.stringify(address)} in ipAddresses`);
    const version = isIP(address);
    if (version === 4) return address;
    if (version === 6 && !address.includes('%')) return expandIPv6(address);
    throw optionError(`invalid IP address ${JSON.stringify(address.slice(0, 60))} in ipAddresses`);
  });
}

function isDnsName(name: string): boolean {
  if (name.length === 0 || name.length > 253) return false;
  const labels = name.split('.');
  if (labels[0] === '*') labels.shift();
  return labels.length > 0 && labels.every((label) => DNS_LABEL.test(label));
}

// The URL parser canonicalises IPv6 (including embedded IPv4); the result is then expanded to
// eight groups, which every IPv6 encoder understands.
function expandIPv6(address: string): string {
  const canonical = new URL(`http://[${address}]/`).hostname.slice(1, -1);
  const [head = '', tail] = canonical.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const zeros = tail === undefined ? [] : new Array<string>(8 - left.length - right.length).fill('0');
  return [...left, ...zeros, ...right].join(':');
}
