import { singleFlight } from '../../src/agent/cluster-init.js';

describe('singleFlight (the init that shoal init and self-registration share)', () => {
  it('a call while one runs gets that run, with the first caller arguments; a later call runs again', async () => {
    const runs: string[] = [];
    let release = (): void => undefined;
    const init = singleFlight(async (name: string) => {
      runs.push(name);
      await new Promise<void>((resolve) => (release = resolve));
      return `token for ${name}`;
    });
    const first = init('lab');
    const second = init('shoal');
    release();
    await expect(Promise.all([first, second])).resolves.toEqual(['token for lab', 'token for lab']);
    const third = init('again');
    release();
    await expect(third).resolves.toBe('token for again');
    expect(runs).toEqual(['lab', 'again']);
  });

  it('a failed run does not stick: the next call runs again', async () => {
    let calls = 0;
    const init = singleFlight(async () => {
      calls++;
      if (calls === 1) throw new Error('cut short');
      return 'ok';
    });
    await expect(init()).rejects.toThrow('cut short');
    await expect(init()).resolves.toBe('ok');
  });
});
