// The EIDO schema bundle is a build output (scripts/eido-bundle.ts, run by npm run build): the
// file the validator loads must be what the converter derives from NENA's YAML now, so a build
// that skipped the step, or YAML changed without a rebuild, fails here.
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { buildEidoSchemaBundle, EIDO_BUNDLE_PATH, EIDO_YAML_DIR } from '../../../scripts/eido-bundle.js';
import { defaultBundlePath } from '../../../sync/eido-validate.js';

describe('EIDO schema bundle', () => {
  it('is built where the validator looks, exactly as the converter derives it from NENA\u2019s YAML', async () => {
    expect(defaultBundlePath()).toBe(EIDO_BUNDLE_PATH);
    const fresh = await buildEidoSchemaBundle(EIDO_YAML_DIR);
    expect(await readFile(EIDO_BUNDLE_PATH, 'utf8')).toBe(`${JSON.stringify(fresh)}\n`);
    // Pruned to what the root type reaches, with upstream's two slips mended.
    expect(Object.keys(fresh.files)).toContain('NIEMComponents/j.yaml');
    expect(Object.keys(fresh.files).some((f) => f.includes('//'))).toBe(false);
  });
});
