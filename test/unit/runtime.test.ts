// The suite runs on the Node the project brings (scripts/lib/node-runtime.mjs): Node 24 LTS, whatever Node started
// `npm test`, and the same major the Docker image and package.json's engines name.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
// @ts-expect-error a plain ES module of the scripts, no types
import { NODE_VERSION } from '../../scripts/lib/node-runtime.mjs';

describe('runtime', () => {
  it('when the suite runs, then it runs on Node 24 LTS, as the image and engines say', () => {
    const major = Number(process.versions.node.split('.')[0]);
    expect(major).toBeGreaterThanOrEqual(24);
    expect(NODE_VERSION.split('.')[0]).toBe('24');
    expect(JSON.parse(readFileSync('package.json', 'utf8')).engines.node).toBe('>=24');
    expect(readFileSync('Dockerfile', 'utf8')).toMatch(/node:24-bookworm-slim/);
  });
});
