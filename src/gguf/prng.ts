/**
 * sfc32 (Chris Doty-Humphrey's Small Fast Counting generator, 32-bit): tiny state, good
 * statistical quality, and exactly reproducible in any language, which is what makes the
 * generated model files byte-identical across runs and machines.
 */
export class Sfc32 {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(a: number, b: number, c: number, d: number) {
    this.a = a >>> 0;
    this.b = b >>> 0;
    this.c = c >>> 0;
    this.d = d >>> 0;
  }

  /**
   * A generator for one stream of a seeded family: streams with different indexes are
   * independent, so each tensor's weights do not depend on how many values came before it.
   */
  static forStream(seed: number, index: number): Sfc32 {
    const rng = new Sfc32(0x9e3779b9, seed, index, 1);
    // The author's recommendation: discard the first outputs so that similar seeds diverge.
    for (let i = 0; i < 15; i++) rng.nextUint32();
    return rng;
  }

  nextUint32(): number {
    const t0 = (this.a + this.b) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.d = (this.d + 1) | 0;
    const t = (t0 + this.d) | 0;
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in the open interval (0, 1). */
  nextUnit(): number {
    return (this.nextUint32() + 0.5) / 4294967296;
  }
}
