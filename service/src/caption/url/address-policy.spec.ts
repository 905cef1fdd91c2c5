import { refusedAddress } from './address-policy';

describe('refusedAddress', () => {
  it.each(['93.184.215.14', '8.8.8.8', '2606:4700::1111', '::ffff:8.8.8.8'])(
    'allows the public address %s',
    (address) => expect(refusedAddress(address)).toBeUndefined(),
  );

  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.8.9.10', 'loopback'],
    ['::1', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.10.1', 'link-local'],
    ['fe80::1', 'link-local'],
    ['100.64.0.1', 'carrier-grade NAT'],
    ['224.0.0.1', 'multicast'],
    ['ff02::1', 'multicast'],
    ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'],
    ['255.255.255.255', 'broadcast'],
    ['fd12:3456::1', 'unique local'],
    ['192.0.2.1', 'reserved'],
    ['::ffff:127.0.0.1', 'IPv4-mapped loopback'],
    ['::ffff:10.0.0.1', 'IPv4-mapped private'],
    ['::ffff:169.254.169.254', 'cloud metadata'],
    ['169.254.169.254', 'cloud metadata'],
    ['fd00:ec2::254', 'cloud metadata'],
    ['64:ff9b::a00:1', 'NAT64'],
    ['2002:a00:1::', '6to4'],
  ])('refuses %s, a %s address', (address, range) => {
    expect(refusedAddress(address)).toContain(range);
  });

  it('admits private ranges for a host named in URL_ALLOWED_PRIVATE_HOSTS', () => {
    for (const address of ['127.0.0.1', '10.0.0.7', '::1', 'fd12::1', '::ffff:192.168.0.2']) {
      expect(refusedAddress(address, true)).toBeUndefined();
    }
  });

  it('never admits the metadata, unspecified, broadcast or multicast addresses', () => {
    for (const address of ['169.254.169.254', '0.0.0.0', '255.255.255.255', '224.0.0.1']) {
      expect(refusedAddress(address, true)).toBeDefined();
    }
  });

  it('refuses what is not an address', () => {
    expect(refusedAddress('example.org')).toMatch(/not an IP address/);
  });
});
