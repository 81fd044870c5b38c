import { MonitorError } from '../contracts/errors.js';

/** Base of all WFDB reading/writing errors: always names the file involved. */
export class WfdbError extends MonitorError {
  readonly file: string;

  constructor(file: string, message: string, cause?: unknown) {
    super(`${file}: ${message}`, { retriable: false, cause });
    this.file = file;
  }
}

/** A header line or field that does not follow the WFDB header grammar. */
export class WfdbHeaderError extends WfdbError {
  readonly line: number;
  readonly field: string;

  constructor(file: string, line: number, field: string, message: string) {
    super(file, `line ${line}, ${field}: ${message}`);
    this.line = line;
    this.field = field;
  }
}

/** Signal bytes that disagree with their header (length, checksum, format). */
export class WfdbSignalError extends WfdbError {}

/** An annotation file that is not a complete MIT-format annotation stream. */
export class WfdbAnnotationError extends WfdbError {
  readonly byteOffset: number;

  constructor(file: string, byteOffset: number, message: string) {
    super(file, `byte ${byteOffset}: ${message}`);
    this.byteOffset = byteOffset;
  }
}

/** A file of the record that cannot be opened at all. */
export class WfdbFileError extends WfdbError {}
