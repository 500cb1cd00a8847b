/**
 * The service mesh: service names and addresses that reach a healthy task wherever it runs.
 * Building blocks the agent wires together: VipInterface (VIPs on shoal0), MeshDns (names),
 * Balancer (which task), ServiceProxy (VIP:port → task) and MeshService (the libp2p stream to
 * a task on another node).
 */
export { Balancer } from './balancer.js';
export type { BalanceStrategy, BalancerOptions, Endpoint, Lease } from './balancer.js';
export { execRunner } from './command.js';
export type { CommandResult, CommandRunner } from './command.js';
export { UdpForwarder, parseUpstream } from './dns-forward.js';
export type { UpstreamServer } from './dns-forward.js';
export { MeshDns, decide, defaultZone } from './dns-server.js';
export type { Decision, DnsLookup, DnsZone, MeshDnsOptions } from './dns-server.js';
export {
  CLASSIC_UDP_BYTES,
  DnsClass,
  DnsRcode,
  DnsType,
  EDNS_UDP_BYTES,
  encodeAnswer,
  encodeQuery,
  parseQuery,
  parseResponse,
} from './dns-wire.js';
export type { DnsAnswer, DnsQuery, DnsQuestion, DnsResponse } from './dns-wire.js';
export { CommandError, MeshProtocolError, MeshRefusedError } from './errors.js';
export type { MeshRefusalCode } from './errors.js';
export { MESH_PROTOCOL, MeshService } from './mesh-stream.js';
export type { LocalTarget, MeshServiceOptions, ResolveLocal } from './mesh-stream.js';
export { MESH_MAX_FRAME_BYTES, parseHeader, parseReply, readFrame } from './mesh-wire.js';
export type { MeshHeader, MeshReply } from './mesh-wire.js';
export { OpenCounts } from './open-counts.js';
export { ServiceProxy } from './proxy.js';
export type { DialRemote, ListenFailure, ProxyListener, ServiceProxyOptions } from './proxy.js';
export { splice } from './splice.js';
export type { SpliceEnd } from './splice.js';
export { StreamDuplex } from './stream-duplex.js';
export { connectTcp } from './tcp.js';
export type { ConnectTcp } from './tcp.js';
export { VIP_LINK, VipInterface, parseAddresses } from './vip-interface.js';
export type { VipInterfaceOptions, VipSyncResult } from './vip-interface.js';
