/**
 * A message stream for the p2p wrappers' tests: libp2p's own AbstractMessageStream (the base of
 * @libp2p/tcp's connection) whose `sendData` records the buffers it would hand the socket one
 * `write` each, as @libp2p/tcp does.
 */
import { defaultLogger } from '@libp2p/logger';
import { AbstractMessageStream } from '@libp2p/utils';
import type { SendResult } from '@libp2p/utils';

export type SendList = Parameters<AbstractMessageStream['sendData']>[0];

/** A message stream whose "socket" records each write and accepts more while `accepting`. */
export class RecordingStream extends AbstractMessageStream {
  readonly writes: Uint8Array[] = [];
  /** Each `sendData` call's bytes, joined: what one send handed the socket. */
  readonly sends: Buffer[] = [];
  accepting = true;
  resets = 0;

  constructor() {
    super({ log: defaultLogger().forComponent('test:recording-stream'), direction: 'outbound' });
  }

  sendData(data: SendList): SendResult {
    for (const buf of data) this.writes.push(buf);
    this.sends.push(Buffer.concat([...data]));
    return { sentBytes: data.byteLength, canSendMore: this.accepting };
  }
  sendReset(): void {
    this.resets++;
  }
  sendPause(): void {}
  sendResume(): void {}
  async close(): Promise<void> {
    this.onTransportClosed();
  }
  /** A Uint8ArrayList of the version libp2p uses (several are installed side by side). */
  static list(...bufs: Uint8Array[]): SendList {
    const list = new RecordingStream().writeBuffer.sublist(0, 0);
    for (const buf of bufs) list.append(buf);
    return list;
  }
}
