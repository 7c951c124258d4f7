// PORT leaves: destination.port equals the operand.

// @ts-ignore: decorator
@inline export function matchPort(value: u32, port: u32): bool {
  return value == port;
}
