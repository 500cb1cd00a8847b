/** The CLI's request ids are what the admin API accepts, and differ from call to call. */
import { CLIENT_REQUEST_ID } from '../../src/api/types.js';
import { newRequestId } from '../../src/cli/request-id.js';

describe('newRequestId()', () => {
  it('makes ids the admin API accepts, a new one each call', () => {
    const ids = Array.from({ length: 100 }, newRequestId);
    expect(ids.every((id) => CLIENT_REQUEST_ID.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(100);
  });
});
