import ipaddr from 'ipaddr.js';

/** Cloud instance metadata (AWS, GCP, Azure, ...; and AWS's IPv6 one): never a target. */
const METADATA = ['169.254.169.254', 'fd00:ec2::254'];

/** Ranges never worth connecting to for an image, whoever asks. */
const NEVER = new Set(['unspecified', 'broadcast', 'multicast']);

/** How a refused range is named in messages. */
const RANGE_NAMES: Record<string, string> = {
  loopback: 'loopback',
  private: 'private',
  linkLocal: 'link-local',
  carrierGradeNat: 'carrier-grade NAT',
  uniqueLocal: 'unique local',
  multicast: 'multicast',
  unspecified: 'unspecified',
  broadcast: 'broadcast',
  reserved: 'reserved',
  rfc6052: 'NAT64',
  rfc6145: 'IPv4-translated',
  '6to4': '6to4',
  teredo: 'Teredo',
};

/**
 * Why an address may not be fetched from, or undefined when it may. Only public unicast
 * addresses are allowed, classified by ipaddr.js (IANA special-purpose registries) rather than by
 * hand-written masks. IPv4-mapped IPv6 addresses are judged as the IPv4 address they carry;
 * prefixes that translate to IPv4 (NAT64, 6to4, Teredo) are refused, since they could reach
 * any IPv4 address. `admitPrivate` (a host named in URL_ALLOWED_PRIVATE_HOSTS) also allows
 * loopback, private, link-local, carrier-grade NAT, unique local and reserved addresses, but
 * never the cloud metadata address, unspecified, broadcast or multicast ones.
 */
export function refusedAddress(address: string, admitPrivate = false): string | undefined {
  if (!ipaddr.isValid(address)) return `"${address}" is not an IP address`;
  let parsed = ipaddr.parse(address);
  let mapped = '';
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) {
    parsed = (parsed as ipaddr.IPv6).toIPv4Address();
    mapped = 'IPv4-mapped ';
  }
  const normalized = parsed.toNormalizedString();
  if (METADATA.some((m) => ipaddr.parse(m).toNormalizedString() === normalized)) {
    return `${address} is the cloud metadata address`;
  }
  const range = parsed.range();
  if (range === 'unicast') return undefined;
  if (admitPrivate && !NEVER.has(range)) return undefined;
  return `${address} is a ${mapped}${RANGE_NAMES[range] ?? range} address`;
}
