import { readFile, writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { buildEidoSchemaBundle } from '../../helpers/board-eido-schema.js';

const BUNDLE = new URL('../../../sync/registries/eido-schema.json', import.meta.url);
const FIXTURES = new URL('../../fixtures/eido/', import.meta.url).pathname;

describe('EIDO schema bundle', () => {
  it('is exactly what the converter derives from NENA\u2019s YAML', async () => {
    const fresh = await buildEidoSchemaBundle(FIXTURES);
    const text = `${JSON.stringify(fresh)}\n`;
    if (process.env.EIDO_SCHEMA_WRITE === '1') await writeFile(BUNDLE, text);
    expect(await readFile(BUNDLE, 'utf8')).toBe(text);
  });
});
