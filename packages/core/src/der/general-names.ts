import { formatName } from './distinguished-name.js';
import { latin1, readOid } from './primitives.js';
import { type DerElement, derError, expectTag, readChildren, readWhole, Tag } from './reader.js';

/** The subject alternative names meshless reads, each kind in certificate order. */
export interface SubjectAltNames {
  dnsNames: string[];
  ipAddresses: string[];
  uris: string[];
  emails: string[];
  directoryNames: string[];
  registeredIds: string[];
}

/**
 * Reads a subjectAltName extension value (GeneralNames). dNSName, rfc822Name and URI must be
 * ASCII (IA5String); iPAddress must be 4 or 16 octets. otherName, x400Address and ediPartyName
 * are skipped: no meshless check uses them.
 *
 * @example
 * ```ts
 * readSubjectAltNames(der, extnValue).uris; // ['spiffe://example.org/ns/prod/sa/web']
 * ```
 */
export function readSubjectAltNames(der: Uint8Array, extnValue: DerElement): SubjectAltNames {
  const names: SubjectAltNames = {
    dnsNames: [],
    ipAddresses: [],
    uris: [],
    emails: [],
    directoryNames: [],
    registeredIds: [],
  };
  const sequence = readWhole(der, extnValue.start, extnValue.end, extnValue.depth + 1);
  expectTag(sequence, Tag.sequence, 'GeneralNames', extnValue.start);
  for (const name of readChildren(der, sequence)) {
    switch (name.tag) {
      case 0x81:
        names.emails.push(ia5(der, name));
        break;
      case 0x82:
        names.dnsNames.push(ia5(der, name));
        break;
      case 0x86:
        names.uris.push(ia5(der, name));
        break;
      case 0x87:
        names.ipAddresses.push(ipAddress(der, name));
        break;
      case 0xa4:
        names.directoryNames.push(formatName(der, readWhole(der, name.start, name.end, name.depth + 1)));
        break;
      case 0x88:
        names.registeredIds.push(readOid(der, name));
        break;
      case 0xa0:
      case 0xa3:
      case 0xa5:
        break;
      default:
        throw derError(`a GeneralName has the unknown tag 0x${name.tag.toString(16)}`, name.offset);
    }
  }
  return names;
}

function ia5(der: Uint8Array, name: DerElement): string {
  for (let i = name.start; i < name.end; i++)
    if ((der[i] as number) > 0x7f) throw derError('a name in the subjectAltName is not ASCII', i);
  return latin1(der, name.start, name.end);
}

function ipAddress(der: Uint8Array, name: DerElement): string {
  const length = name.end - name.start;
  if (length === 4) return Array.from(der.subarray(name.start, name.end)).join('.');
  if (length === 16) return formatIPv6(der.subarray(name.start, name.end));
  throw derError(`an iPAddress SAN has ${length} octets, not 4 or 16`, name.offset);
}

// Hex groups without leading zeros, the longest run of two or more zero groups (the first if tied)
// shortened to `::`: RFC 5952, as @peculiar/x509 prints it.
function formatIPv6(bytes: Uint8Array): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2)
    groups.push((((bytes[i] as number) << 8) | (bytes[i + 1] as number)).toString(16));
  let bestStart = -1;
  let bestLength = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  if (bestLength < 2) return groups.join(':');
  return `${groups.slice(0, bestStart).join(':')}::${groups.slice(bestStart + bestLength).join(':')}`;
}
