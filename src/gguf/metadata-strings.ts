import { GgufValueType } from './constants.js';
import { isGgufArray, type GgufFile, type GgufValue } from './types.js';

/** Docker's packager leaves longer arrays (vocabularies, merges) out of the config's `gguf` map. */
export const MAX_LISTED_ARRAY_ITEMS = 50;

/** One value as Docker's packager prints it: Go's %d, %t, and %f (six decimals) for floats. */
function scalarString(type: GgufValueType, value: GgufValue): string {
  switch (type) {
    case GgufValueType.FLOAT32:
      // The reader shortened the float for display; round it back to the stored float first.
      return Math.fround(Number(value)).toFixed(6);
    case GgufValueType.FLOAT64:
      return Number(value).toFixed(6);
    case GgufValueType.BOOL:
      return value ? 'true' : 'false';
    default:
      return String(value);
  }
}

/** A metadata value as a string; undefined for an array Docker would leave out. */
export function metadataValueString(type: GgufValueType, value: GgufValue): string | undefined {
  if (type !== GgufValueType.ARRAY) return scalarString(type, value);
  if (!isGgufArray(value) || value.length > MAX_LISTED_ARRAY_ITEMS || value.truncated) return undefined;
  // Nested arrays print as nothing, as in Docker's packager.
  if (value.itemType === GgufValueType.ARRAY) return '';
  return value.items.map((item) => scalarString(value.itemType, item)).join(', ');
}

/** Every metadata entry as a string, the way Docker's model config `gguf` map holds them. */
export function metadataStrings(file: GgufFile): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, entry] of file.metadata) {
    const text = metadataValueString(entry.type, entry.value);
    if (text !== undefined) Object.defineProperty(out, key, { value: text, enumerable: true, writable: true, configurable: true });
  }
  return out;
}
