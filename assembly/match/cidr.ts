// CIDR leaves: the value is an IP of the same family whose first `prefix` bits equal the
// network's (host bits of the network are zero, checked by the decoder).

export function matchCidr(ip: usize, ipLen: usize, net: usize, netLen: usize, prefix: u32): bool {
  if (ipLen != netLen) return false;
  const full = <usize>(prefix >> 3);
  if (full > 0 && memory.compare(ip, net, full) != 0) return false;
  const rest = prefix & 7;
  if (rest == 0) return true;
  const mask = <u32>(0xff << (8 - rest)) & 0xff;
  return (<u32>load<u8>(ip + full) & mask) == <u32>load<u8>(net + full);
}
