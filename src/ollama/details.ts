/** The `details` object Ollama attaches to every model, from Docker's model config. */

/** The config fields this translation reads; Docker's `Model.config` satisfies it. */
export interface ModelConfigFields {
  format?: string;
  quantization?: string;
  parameters?: string;
  architecture?: string;
  /** Docker's size text, such as "256.35MiB". */
  size?: string;
  /** Every GGUF metadata key with its value as text. */
  gguf?: Record<string, string>;
  context_size?: number;
}

/** The subset of a Docker `Model` (GET /models) the Ollama views need. */
export interface ModelSummary {
  id: string;
  tags: string[];
  /** Unix seconds; 0 when unknown. */
  created: number;
  config: ModelConfigFields;
}

export interface OllamaDetails {
  parent_model: string;
  format: string;
  family: string;
  families: string[] | null;
  parameter_size: string;
  quantization_level: string;
}

export function toOllamaDetails(config: ModelConfigFields): OllamaDetails {
  const family = config.architecture ?? '';
  return {
    parent_model: '',
    format: config.format || 'gguf',
    family,
    families: family ? [family] : null,
    parameter_size: config.parameters ?? '',
    quantization_level: config.quantization ?? '',
  };
}

const BINARY_UNITS: Record<string, number> = { B: 1, KIB: 1024, MIB: 1024 ** 2, GIB: 1024 ** 3, TIB: 1024 ** 4 };
const DECIMAL_UNITS: Record<string, number> = { KB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12 };

/**
 * Bytes from Docker's size text ("256.35MiB", "1.2 GB"). The text keeps two decimals, so the
 * result is within 0.005 of a unit of the real size; 0 when there is no size to read.
 */
export function parseSizeText(text: string | undefined): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text ?? '');
  if (!match) return 0;
  const unit = match[2]!.toUpperCase() || 'B';
  const scale = BINARY_UNITS[unit] ?? DECIMAL_UNITS[unit];
  return scale === undefined ? 0 : Math.round(Number(match[1]) * scale);
}
