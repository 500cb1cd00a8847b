/**
 * shoal's p2p layer: node identity, the libp2p host with its membership gate, framed streams,
 * the Raft transport and the RPC service.
 */
export { IDENTITY_FILE, loadOrCreateIdentity } from './identity.js';
export type { Identity } from './identity.js';
export { MemberSet, admits, openGate } from './gate.js';
export type { MemberGate } from './gate.js';
export { DEFAULT_LISTEN, MDNS_SERVICE_TAG, P2PHost, createHost } from './host.js';
export type { DialOptions, DiscoveredPeer, HandleOptions, HostOptions, StreamContext } from './host.js';
export {
  DEFAULT_MAX_FRAME_BYTES,
  FRAME_HEADER_BYTES,
  FrameDecoder,
  encodeFrame,
  readFrames,
  writeFrame,
} from './frames.js';
export type { FrameOptions } from './frames.js';
export { MAX_NODE_ID_LENGTH, RAFT_MESSAGE_TYPES, validateRaftMessage } from './raft-wire.js';
export { Libp2pRaftTransport, RAFT_PROTOCOL } from './raft-transport.js';
export type { RaftTransportOptions } from './raft-transport.js';
export { DEFAULT_RPC_TIMEOUT_MS, RPC_PROTOCOL, RpcService } from './rpc.js';
export type { CallOptions, MethodOptions, RpcContext, RpcHandler, RpcServiceOptions, RpcStreamHandler } from './rpc.js';
export {
  FrameTooLargeError,
  IdentityFileError,
  ConnectionLostError,
  MalformedFrameError,
  PeerUnreachableError,
  RemoteError,
  RpcErrorCode,
  RpcTimeoutError,
} from './errors.js';
