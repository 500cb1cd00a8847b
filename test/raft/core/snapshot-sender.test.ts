/** The chunked snapshot sender's flow control (regression: a retransmission storm the simulator found). */
import { SnapshotSender } from '../../../src/raft/core/snapshot-sender.js';
import type { Snapshot } from '../../../src/raft/types.js';

const snapshot: Snapshot = {
  meta: { index: 10, term: 2, conf: { voters: ['a', 'b'], learners: [] } },
  data: new Uint8Array(100),
};

describe('SnapshotSender', () => {
  it('ack() resends from a lost chunk once per loss, not once per duplicate acknowledgement', () => {
    const sender = new SnapshotSender(10, 4);
    expect(sender.start('b', snapshot).map((c) => c.offset)).toEqual([0, 10, 20, 30]);
    // chunk 0 arrived, chunk 10 was lost: 20 and 30 each produce a duplicate ack of 10
    expect(sender.ack('b', 10, 2, 10).map((c) => c.offset)).toEqual([40]);
    const resent = sender.ack('b', 10, 2, 10).map((c) => c.offset);
    expect(resent).toEqual([10, 20, 30, 40]);
    expect(sender.ack('b', 10, 2, 10)).toEqual([]);
    expect(sender.ack('b', 10, 2, 10)).toEqual([]);
    // progress resumes the window
    expect(sender.ack('b', 10, 2, 50).map((c) => c.offset)).toEqual([50, 60, 70, 80]);
  });

  it('retransmitIfStalled() resends a chunk whose resend was lost too', () => {
    const sender = new SnapshotSender(10, 2);
    sender.start('b', snapshot);
    sender.ack('b', 10, 2, 0);
    expect(sender.ack('b', 10, 2, 0)).toEqual([]);
    // the first check records the position; two more checks without progress resend
    expect(sender.retransmitIfStalled('b')).toEqual([]);
    expect(sender.retransmitIfStalled('b')).toEqual([]);
    expect(sender.retransmitIfStalled('b').map((c) => c.offset)).toEqual([0, 10]);
  });

  // seed 18003: acknowledgements of the transfer before a restart arrived after it and credited
  // the new transfer with 32 bytes; the follower, at 24, never got byte 24 again
  it('retransmitIfStalled() resends from what the follower last reported when that is less than believed', () => {
    const sender = new SnapshotSender(8, 4);
    sender.start('b', snapshot);
    sender.reject('b', 10, 2);
    sender.ack('b', 10, 2, 32); // late, from before the restart
    sender.ack('b', 10, 2, 24); // the follower's real count, again and again
    sender.ack('b', 10, 2, 24);
    expect(sender.retransmitIfStalled('b')).toEqual([]);
    sender.ack('b', 10, 2, 24);
    expect(sender.retransmitIfStalled('b')).toEqual([]);
    sender.ack('b', 10, 2, 24);
    expect(sender.retransmitIfStalled('b').map((c) => c.offset)).toEqual([24, 32, 40, 48]);
  });

  it('sends the last chunk with done and stops there', () => {
    const sender = new SnapshotSender(40, 4);
    const chunks = sender.start('b', snapshot);
    expect(chunks.map((c) => [c.offset, c.done])).toEqual([
      [0, false],
      [40, false],
      [80, true],
    ]);
    expect(sender.ack('b', 10, 2, 40)).toEqual([]);
  });
});
