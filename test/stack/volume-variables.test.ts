import { describe, expect, it } from '@jest/globals';
import { buildDeployRequest } from '../../src/cli/index.js';
import { parseErrors, parseOk, oneService } from './helpers.js';

describe('parseStack() volumes with variables and ~', () => {
  it('names an unset variable that empties a short volume source, with file and line', () => {
    const compose = oneService('volumes:\n  - ${PLEX_MEDIA_PATH}:/media/');
    expect(parseErrors(compose)).toEqual([
      'compose.yml:5 services.s.volumes[0]: variable PLEX_MEDIA_PATH is not set, so the volume reads ":/media/": ' +
        'an empty part is not a valid volume (Compose substitutes an empty string too); set it in the environment ' +
        'or .env, or give a default such as ${PLEX_MEDIA_PATH:-/srv/data}',
    ]);
  });

  it('names an unset variable that empties a long-syntax source', () => {
    const compose = oneService('volumes:\n  - type: bind\n    source: ${DATA}\n    target: /data');
    expect(parseErrors(compose)).toEqual([
      expect.stringMatching(
        /^compose\.yml:6 services\.s\.volumes\[0\]\.source: variable DATA is not set, so source is empty: /,
      ),
    ]);
  });

  it('accepts an unset variable with a default', () => {
    const spec = parseOk(oneService('volumes:\n  - ${PLEX_MEDIA_PATH:-/srv/media}:/media/'));
    expect(spec.services.s!.volumes).toEqual([
      { type: 'bind', source: '/srv/media', target: '/media/', readOnly: false },
    ]);
  });
});

describe('buildDeployRequest() and ~', () => {
  const compose = 'services:\n  s:\n    image: img\n    volumes:\n      - ~/media:/media\n';
  const read = (path: string) => (path === '/srv/app/compose.yml' ? compose : undefined);

  it("sends the CLI user's HOME when the file uses ~, and the agent expands it", () => {
    const request = buildDeployRequest('/srv/app/compose.yml', { env: { HOME: '/home/ann' }, read });
    expect(request.env).toEqual({ HOME: '/home/ann' });
    const spec = parseOk(request.compose, { env: request.env, baseDir: '/srv/app' });
    expect(spec.services.s!.volumes).toEqual([
      { type: 'bind', source: '/home/ann/media', target: '/media', readOnly: false },
    ]);
  });

  it('falls back to the home directory of the account when HOME is not set', () => {
    const request = buildDeployRequest('/srv/app/compose.yml', { env: {}, read, home: '/home/bob' });
    expect(request.env).toEqual({ HOME: '/home/bob' });
  });
});
