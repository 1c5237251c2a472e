import type { SpecProblem } from '../errors.js';

/** Collects validation problems (with API-style field paths) and notices for the user. */
export class Problems {
  readonly problems: SpecProblem[] = [];
  readonly notices: string[] = [];

  add(path: string, message: string): void {
    this.problems.push({ path, message });
  }

  notice(message: string): void {
    this.notices.push(message);
  }

  merge(other: { problems: readonly SpecProblem[]; notices: readonly string[] }): void {
    this.problems.push(...other.problems);
    this.notices.push(...other.notices);
  }

  get ok(): boolean {
    return this.problems.length === 0;
  }

  /** Length within [min, max] and, when given, a full match of `pattern`. */
  checkString(path: string, value: string, rule: { min?: number; max?: number; pattern?: RegExp; patternText?: string }): void {
    const min = rule.min ?? 0;
    if (value.length < min) this.add(path, `must be at least ${min} character${min === 1 ? '' : 's'} long (got ${value.length}).`);
    else if (rule.max !== undefined && value.length > rule.max) {
      this.add(path, `must be at most ${rule.max} characters long (got ${value.length}).`);
    } else if (rule.pattern && !rule.pattern.test(value)) {
      this.add(path, `"${value}" does not match the pattern ${rule.patternText ?? rule.pattern.source}.`);
    }
  }

  checkInteger(path: string, value: number, rule: { min?: number; max?: number }): void {
    if (!Number.isInteger(value)) this.add(path, `must be a whole number (got ${value}).`);
    else if (rule.min !== undefined && value < rule.min) this.add(path, `must be at least ${rule.min} (got ${value}).`);
    else if (rule.max !== undefined && value > rule.max) this.add(path, `must be at most ${rule.max} (got ${value}).`);
  }
}
