import { FRAME_LIMITS } from '../contracts/frame.js';
import { WfdbHeaderError } from './errors.js';

/** One signal line of a WFDB header (`.hea`). */
export interface WfdbSignalSpec {
  readonly fileName: string;
  readonly format: number;
  readonly byteOffset: number;
  /** ADC units per physical unit; WFDB's default of 200 when the header says 0 or nothing. */
  readonly gain: number;
  /** Digital value that corresponds to 0 physical units. */
  readonly baseline: number;
  readonly units: string;
  readonly adcResolution: number;
  readonly adcZero: number;
  readonly initialValue: number | undefined;
  readonly checksum: number | undefined;
  readonly blockSize: number;
  readonly description: string;
}

/** A parsed single-segment WFDB header. */
export interface WfdbHeader {
  readonly recordName: string;
  readonly samplingFrequency: number;
  /** Samples per signal; undefined when the header leaves it to the size of the signal file. */
  readonly sampleCount: number | undefined;
  readonly baseTime: string | undefined;
  readonly baseDate: string | undefined;
  readonly signals: readonly WfdbSignalSpec[];
  readonly comments: readonly string[];
}

const DEFAULT_GAIN = 200;
const DEFAULT_FREQUENCY = 250;

/** Default ADC resolution (bits) per storage format, as WFDB's signal(5) page gives them. */
const DEFAULT_ADC_RESOLUTION: Readonly<Record<number, number>> = { 212: 12, 16: 16 };

// record line: name[/segments] nsig [fs[/counterfreq[(base)]] [nsamp [time [date]]]]
const FREQUENCY_PATTERN = /^(\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)(?:\/[\d.]+(?:\([-\d.]+\))?)?$/;
// format field: format[xsamp][:skew][+offset]
const FORMAT_PATTERN = /^(\d+)(?:x(\d+))?(?::(\d+))?(?:\+(\d+))?$/;
// gain field: gain[(baseline)][/units]
const GAIN_PATTERN = /^([-+]?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)(?:\(([-+]?\d+)\))?(?:\/(\S+))?$/;

function parseInteger(file: string, line: number, field: string, text: string): number {
  if (!/^[-+]?\d+$/.test(text)) {
    throw new WfdbHeaderError(file, line, field, `expected an integer, found "${text}"`);
  }
  return Number.parseInt(text, 10);
}

/**
 * Parses the text of a `.hea` file. `file` is only used to name the file in errors.
 * Multi-segment headers, several samples per frame and skew are rejected explicitly: the
 * monitor has no use for them and reading them wrongly would corrupt beats silently.
 */
export function parseHeader(text: string, file: string): WfdbHeader {
  const lines = text.split(/\r?\n/);
  const comments: string[] = [];
  const content: { text: string; number: number }[] = [];
  lines.forEach((raw, index) => {
    const trimmed = raw.trim();
    if (trimmed.startsWith('#')) comments.push(trimmed.slice(1).trim());
    else if (trimmed.length > 0) content.push({ text: trimmed, number: index + 1 });
  });
  const recordLine = content[0];
  if (recordLine === undefined) throw new WfdbHeaderError(file, 1, 'record line', 'header is empty');
  const fields = recordLine.text.split(/\s+/);
  const [nameField, nsigField, fsField, nsampField, baseTime, baseDate] = fields;
  if (nameField === undefined || nsigField === undefined) {
    throw new WfdbHeaderError(file, recordLine.number, 'record line', 'needs a record name and a signal count');
  }
  if (nameField.includes('/')) {
    throw new WfdbHeaderError(file, recordLine.number, 'record name', 'multi-segment records are not supported');
  }
  const signalCount = parseInteger(file, recordLine.number, 'number of signals', nsigField);
  if (signalCount < 1 || signalCount > FRAME_LIMITS.maxLeads)
    throw new WfdbHeaderError(
      file,
      recordLine.number,
      'number of signals',
      `${signalCount}: a record the monitor reads has 1 to ${FRAME_LIMITS.maxLeads} signals`,
    );

  let samplingFrequency = DEFAULT_FREQUENCY;
  if (fsField !== undefined) {
    const match = FREQUENCY_PATTERN.exec(fsField);
    if (match?.[1] === undefined || !(Number(match[1]) > 0)) {
      throw new WfdbHeaderError(file, recordLine.number, 'sampling frequency', `cannot read "${fsField}"`);
    }
    samplingFrequency = Number(match[1]);
    if (!(samplingFrequency >= FRAME_LIMITS.minSampleRate && samplingFrequency <= FRAME_LIMITS.maxSampleRate))
      throw new WfdbHeaderError(
        file,
        recordLine.number,
        'sampling frequency',
        `${samplingFrequency} Hz: the monitor reads ${FRAME_LIMITS.minSampleRate} to ${FRAME_LIMITS.maxSampleRate} Hz`,
      );
  }
  const sampleCount =
    nsampField === undefined ? undefined : parseInteger(file, recordLine.number, 'number of samples', nsampField);
  if (sampleCount !== undefined && sampleCount < 0) {
    throw new WfdbHeaderError(file, recordLine.number, 'number of samples', 'is negative');
  }

  const signalLines = content.slice(1);
  if (signalLines.length < signalCount) {
    throw new WfdbHeaderError(
      file,
      recordLine.number,
      'number of signals',
      `record line announces ${signalCount} signals but ${signalLines.length} signal lines follow`,
    );
  }
  const signals = signalLines.slice(0, signalCount).map((line) => parseSignalLine(file, line.number, line.text));
  return {
    recordName: nameField,
    samplingFrequency,
    sampleCount,
    baseTime,
    baseDate,
    signals,
    comments,
  };
}

function parseSignalLine(file: string, lineNumber: number, text: string): WfdbSignalSpec {
  const parts = text.split(/\s+/);
  const [fileName, formatField, gainField, resField, zeroField, initField, checksumField, blockField] = parts;
  const description = parts.slice(8).join(' ');
  if (fileName === undefined || formatField === undefined) {
    throw new WfdbHeaderError(file, lineNumber, 'signal line', 'needs a file name and a format');
  }
  const formatMatch = FORMAT_PATTERN.exec(formatField);
  if (formatMatch?.[1] === undefined) {
    throw new WfdbHeaderError(file, lineNumber, 'format', `cannot read "${formatField}"`);
  }
  const format = Number(formatMatch[1]);
  if (formatMatch[2] !== undefined && Number(formatMatch[2]) !== 1) {
    throw new WfdbHeaderError(file, lineNumber, 'format', 'several samples per frame are not supported');
  }
  if (formatMatch[3] !== undefined && Number(formatMatch[3]) !== 0) {
    throw new WfdbHeaderError(file, lineNumber, 'format', 'signal skew is not supported');
  }
  const byteOffset = formatMatch[4] === undefined ? 0 : Number(formatMatch[4]);

  let gain = DEFAULT_GAIN;
  let baselineField: number | undefined;
  let units = 'mV';
  if (gainField !== undefined) {
    const gainMatch = GAIN_PATTERN.exec(gainField);
    if (gainMatch?.[1] === undefined) {
      throw new WfdbHeaderError(file, lineNumber, 'ADC gain', `cannot read "${gainField}"`);
    }
    const parsedGain = Number(gainMatch[1]);
    gain = parsedGain === 0 ? DEFAULT_GAIN : parsedGain;
    if (!(gain >= FRAME_LIMITS.minGain && gain <= FRAME_LIMITS.maxGain))
      throw new WfdbHeaderError(
        file,
        lineNumber,
        'ADC gain',
        `${gain}: outside ${FRAME_LIMITS.minGain} to ${FRAME_LIMITS.maxGain} ADC units per physical unit`,
      );
    if (gainMatch[2] !== undefined) baselineField = Number(gainMatch[2]);
    if (gainMatch[3] !== undefined) units = gainMatch[3];
  }
  const adcResolution =
    resField === undefined || resField === '0'
      ? (DEFAULT_ADC_RESOLUTION[format] ?? 12)
      : parseInteger(file, lineNumber, 'ADC resolution', resField);
  const adcZero = zeroField === undefined ? 0 : parseInteger(file, lineNumber, 'ADC zero', zeroField);
  const baseline = baselineField ?? adcZero;
  if (!(baseline >= FRAME_LIMITS.minBaseline && baseline <= FRAME_LIMITS.maxBaseline))
    throw new WfdbHeaderError(file, lineNumber, 'baseline', `${baseline}: outside the range of 16-bit samples`);
  return {
    fileName,
    format,
    byteOffset,
    gain,
    baseline,
    units,
    adcResolution,
    adcZero,
    initialValue: initField === undefined ? undefined : parseInteger(file, lineNumber, 'initial value', initField),
    checksum: checksumField === undefined ? undefined : parseInteger(file, lineNumber, 'checksum', checksumField),
    blockSize: blockField === undefined ? 0 : parseInteger(file, lineNumber, 'block size', blockField),
    description,
  };
}
