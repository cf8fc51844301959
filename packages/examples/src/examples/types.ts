/**
 * @file What every runnable example provides: a name, a one-line summary, and a `run` that prints
 * through the function it is given and returns its key numbers (the tests check those).
 */

export interface ExampleOptions {
  /** Print one line. */
  print: (line: string) => void;
  /** A much shorter run (tiny epochs), for tests. */
  quick?: boolean;
  /** Where to write a picture or chart, when the example makes one. */
  out?: string;
  /** Seed for everything random. */
  seed?: number;
  /** Stop a step-by-step walk-through after this step. */
  step?: number;
}

export interface Example {
  name: string;
  summary: string;
  run(options: ExampleOptions): Promise<Record<string, unknown>>;
}
