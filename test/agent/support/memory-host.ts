/**
 * A libp2p host on the in-memory transport (@libp2p/memory): agents in one process reach each
 * other at `/memory/<name>` addresses with Noise and Yamux as in production, no sockets. The
 * gater and limits follow createHost (src/p2p/host.ts), which has no transport option.
 */
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import type { PeerId } from '@libp2p/interface';
import { memory } from '@libp2p/memory';
import { createLibp2p } from 'libp2p';
import { pino } from 'pino';
import type { HostFactory } from '../../../src/agent/network.js';
import { openGate, P2PHost } from '../../../src/p2p/index.js';

export const memoryHost: HostFactory = async (options) => {
  const gate = options.gate ?? openGate;
  const log = (options.logger ?? pino({ level: 'silent' })).child({ component: 'p2p' });
  const revoked = (peer: PeerId): boolean => gate.isRevoked(peer.toString());
  const libp2p = await createLibp2p({
    privateKey: options.privateKey,
    addresses: { listen: [...(options.listen ?? [])] },
    transports: [memory()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux({ maxEarlyStreams: 256 })],
    connectionManager: { inboundConnectionThreshold: 200, maxIncomingPendingConnections: 64 },
    connectionGater: {
      denyDialPeer: revoked,
      denyInboundEncryptedConnection: revoked,
      denyOutboundEncryptedConnection: revoked,
    },
  });
  return new P2PHost(libp2p, gate, log);
};
