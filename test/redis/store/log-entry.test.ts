import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { entryParts, PACKED_FIELD, packEntry } from '../../../src/redis/store/log-entry.js';
import { encodeStreamName } from '../../../src/redis/store/redis-keys.js';

/** Names as the envelope check lets them through: 1 to 256 characters, no control characters. */
const name = fc
  .string({ minLength: 1, maxLength: 40, unit: 'grapheme' })
  // biome-ignore lint/suspicious/noControlCharactersInRegex: filtering control characters out is the point
  .filter((s) => !/[\u0000-\u001f\u007f-\u009f]/.test(s));

describe('the packed entry field (log-entry.ts)', () => {
  it('gives back id, token, type and JSON exactly, whatever the JSON holds (newlines too)', () => {
    fc.assert(
      fc.property(name, name, name, fc.string({ unit: 'grapheme' }), (id, stream, type, json) => {
        const token = encodeStreamName(stream);
        const entry = { id: '1-0', fields: [PACKED_FIELD, packEntry(id, token, type, json)] };
        expect(entryParts(entry)).toEqual({ packed: entry.fields[1], id, token, type, json });
      }),
    );
  });

  it('reads the older fields; an entry without id or JSON is not an event', () => {
    const older = { id: '1-0', fields: ['i', 'e1', 's', 'dA', 't', 'a.b', 'e', '{}'] };
    expect(entryParts(older)).toEqual({ id: 'e1', token: 'dA', type: 'a.b', json: '{}' });
    const streamKey = { id: '1-0', fields: ['i', 'e1', 'e', '{}'] };
    // No type: the feed decodes it rather than skip it.
    expect(entryParts(streamKey)).toEqual({ id: 'e1', token: undefined, type: undefined, json: '{}' });
    for (const fields of [
      ['i', 'e1'],
      ['e', '{}'],
      [PACKED_FIELD, 'a\nb\nc'],
      [PACKED_FIELD, '\nt\na.b\n{}'],
    ]) {
      expect(entryParts({ id: '1-0', fields })).toBeUndefined();
    }
  });
});
