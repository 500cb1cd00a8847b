import { digestRef, parseImageRef, pinnedRef, registryHost, taggedRef } from '../../src/runtime/image-ref.js';

const D = `sha256:${'a'.repeat(64)}`;

describe('parseImageRef()', () => {
  it.each([
    ['nginx', { registry: 'docker.io', repository: 'library/nginx', tag: null, digest: null, name: 'nginx' }],
    ['nginx:1.25', { registry: 'docker.io', repository: 'library/nginx', tag: '1.25', name: 'nginx' }],
    ['user/app:v2', { registry: 'docker.io', repository: 'user/app', tag: 'v2' }],
    ['127.0.0.1:5000/app:v1', { registry: '127.0.0.1:5000', repository: 'app', tag: 'v1', name: '127.0.0.1:5000/app' }],
    ['localhost/team/app', { registry: 'localhost', repository: 'team/app', tag: null }],
    ['ghcr.io/org/app:v1@' + D, { registry: 'ghcr.io', repository: 'org/app', tag: 'v1', digest: D }],
    ['shoal-test/busybox@' + D, { registry: 'docker.io', repository: 'shoal-test/busybox', tag: null, digest: D }],
  ])('parseImageRef() reads %s', (ref, expected) => {
    expect(parseImageRef(ref)).toMatchObject(expected);
  });

  it.each([['Nginx'], ['app@sha256:short'], ['app:bad tag'], [''], ['app:-x']])('parseImageRef() refuses %j', (ref) => {
    expect(() => parseImageRef(ref)).toThrow(RangeError);
  });

  it('pinnedRef() keeps the tag for display and digestRef() drops it', () => {
    const ref = parseImageRef('127.0.0.1:5000/app:v1');
    const pinned = pinnedRef(ref, D);
    expect(pinned).toBe(`127.0.0.1:5000/app:v1@${D}`);
    expect(digestRef(parseImageRef(pinned))).toBe(`127.0.0.1:5000/app@${D}`);
    expect(taggedRef(parseImageRef('busybox'))).toBe('busybox:latest');
  });

  it('registryHost() sends Docker Hub to registry-1.docker.io', () => {
    expect(registryHost('docker.io')).toBe('registry-1.docker.io');
    expect(registryHost('127.0.0.1:5000')).toBe('127.0.0.1:5000');
  });
});
