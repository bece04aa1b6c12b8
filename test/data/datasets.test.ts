/**
 * Data files (src/io/datasets.ts): CSV and .npy round trips through the library's own writers and through
 * hand-made files (CRLF, BOM, quotes, blank lines, float32, 1-D, format 2.0); resolveData for built-in
 * names and files; and every bad file refused with a one-line DataFileError that starts with the file
 * and names the line, row, column or header field.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { toy2d, TOY2D_NAMES } from "../../src/data/toy2d.ts";
import { DataFileError, DEFAULT_MAX_DATA_BYTES, loadDataFile, resolveData } from "../../src/io/datasets.ts";
import { npyHeader, writeSamplesCsv, writeSamplesNpy } from "../../src/io/samples.ts";
import { keyFromSeed, Stream } from "../../src/random/key.ts";

const dir = mkdtempSync(join(tmpdir(), "ebm-datasets-test-"));
after(() => rmSync(dir, { recursive: true, force: true }));

let counter = 0;
/** Writes `content` to a fresh file with extension `ext` in the temp folder; returns its path. */
function file(ext: string, content: string | Uint8Array): string {
  const path = join(dir, `f${counter++}${ext}`);
  writeFileSync(path, content);
  return path;
}

/** An .npy file from a raw header dict (padded to 64 bytes, format `major`.0) and raw data bytes. */
function npyRaw(dict: string, data: Uint8Array = new Uint8Array(0), major = 1): Uint8Array {
  const pre = major === 1 ? 10 : 12;
  const total = Math.ceil((pre + dict.length + 1) / 64) * 64;
  const headerLen = total - pre;
  const out = new Uint8Array(total + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0]);
  const view = new DataView(out.buffer);
  if (major === 1) view.setUint16(8, headerLen, true);
  else view.setUint32(8, headerLen, true);
  const text = `${dict}${" ".repeat(headerLen - dict.length - 1)}\n`;
  for (let i = 0; i < text.length; i++) out[pre + i] = text.charCodeAt(i);
  out.set(data, total);
  return out;
}

function f64Bytes(values: number[]): Uint8Array {
  return new Uint8Array(Float64Array.from(values).buffer);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * `fn` throws a DataFileError whose message is one line, starts with `path` (as given) and matches
 * `pattern` after it.
 */
function assertDataError(fn: () => unknown, path: string, pattern: RegExp): DataFileError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof DataFileError, `expected a DataFileError for ${path}, got ${String(caught)}`);
  const e = caught as DataFileError;
  assert.ok(!/[\n\r]/.test(e.message), `one line: ${JSON.stringify(e.message)}`);
  assert.match(e.message, new RegExp(`^${escapeRegExp(path)}: ${pattern.source}`), e.message);
  assert.equal(e.file, path);
  return e;
}

describe("round trips", () => {
  test("CSV written by writeSamplesCsv reads back bit for bit, with its column names", () => {
    const n = 257;
    const dim = 3;
    const data = new Stream(keyFromSeed(1)).fillNormal(new Float64Array(n * dim));
    data[0] = 1e-310; // subnormal
    data[1] = -1.7976931348623157e308;
    data[2] = 0;
    const path = join(dir, "samples.csv");
    writeSamplesCsv(path, { data, rows: n, dim });
    const t = loadDataFile(path);
    assert.equal(t.n, n);
    assert.equal(t.dim, dim);
    assert.deepEqual(t.columns, ["x0", "x1", "x2"]);
    assert.deepEqual(t.x, data);
  });

  test("CSV by hand: BOM, CRLF, quotes, spaces, blank lines, exponents, signs, no final newline", () => {
    const path = file(".csv", '\ufeff"a", b ,"c d"\r\n\r\n1,-2.5,.5\r\n  +3e-4 , "7",1E2\r\n\r\n-0,8.,1e+1');
    const t = loadDataFile(path);
    assert.deepEqual(t.columns, ["a", "b", "c d"]);
    assert.equal(t.n, 3);
    assert.equal(t.dim, 3);
    assert.deepEqual([...t.x], [1, -2.5, 0.5, 3e-4, 7, 100, -0, 8, 10]);
    assert.ok(Object.is(t.x[6], -0));
  });

  test("a one-column CSV and a wide one", () => {
    assert.deepEqual(loadDataFile(file(".csv", "x\n1\n2\n3\n")).x, Float64Array.of(1, 2, 3));
    const names = Array.from({ length: 50 }, (_, j) => `c${j}`);
    const row = Array.from({ length: 50 }, (_, j) => String(j)).join(",");
    const t = loadDataFile(file(".csv", `${names.join(",")}\n${row}\n${row}\n`));
    assert.equal(t.dim, 50);
    assert.equal(t.n, 2);
    assert.equal(t.x[50 + 49], 49);
  });

  test(".npy written by writeSamplesNpy (float64) reads back bit for bit; no column names", () => {
    const n = 100;
    const data = new Stream(keyFromSeed(2)).fillNormal(new Float64Array(n * 2));
    const path = join(dir, "samples.npy");
    writeSamplesNpy(path, { data, rows: n, dim: 2 });
    const t = loadDataFile(path);
    assert.equal(t.n, n);
    assert.equal(t.dim, 2);
    assert.equal(t.columns, undefined);
    assert.deepEqual(t.x, data);
    assert.equal(t.x.byteOffset, 0);
  });

  test(".npy float32 is widened exactly; 1-D (n,) is n points of dimension 1; format 2.0; upper-case extension", () => {
    const v = [0.1, -2, 3.5, 1e-30, 65504, -7.25];
    const f32 = Float32Array.from(v);
    const header = npyHeader("<f4", [3, 2]);
    const bytes = new Uint8Array(header.length + f32.byteLength);
    bytes.set(header);
    bytes.set(new Uint8Array(f32.buffer), header.length);
    const t = loadDataFile(file(".NPY", bytes));
    assert.equal(t.n, 3);
    assert.equal(t.dim, 2);
    assert.deepEqual(t.x, Float64Array.from(f32));

    const one = loadDataFile(
      file(
        ".npy",
        npyRaw("{'descr': '<f8', 'fortran_order': False, 'shape': (4,), }", f64Bytes([1, 2, 3, 4])),
      ),
    );
    assert.equal(one.n, 4);
    assert.equal(one.dim, 1);
    assert.deepEqual(one.x, Float64Array.of(1, 2, 3, 4));

    const v2 = loadDataFile(
      file(
        ".npy",
        npyRaw("{'descr': '<f8', 'fortran_order': False, 'shape': (1, 2), }", f64Bytes([5, 6]), 2),
      ),
    );
    assert.deepEqual(v2.x, Float64Array.of(5, 6));
  });
});

describe("resolveData", () => {
  test("a built-in name gives n points of that set from the key", () => {
    for (const name of TOY2D_NAMES) {
      const r = resolveData(name, keyFromSeed(9), 64);
      assert.equal(r.n, 64);
      assert.equal(r.dim, 2);
      assert.deepEqual(r.columns, ["x0", "x1"]);
      assert.equal(r.builtin?.name, name);
      assert.deepEqual(r.x, toy2d(name).sample(keyFromSeed(9), 64));
    }
  });

  test("a .csv or .npy path is loaded (n and key unused)", () => {
    const path = file(".csv", "u,v\n1,2\n3,4\n");
    const r = resolveData(path, keyFromSeed(1), 1000);
    assert.equal(r.n, 2);
    assert.equal(r.builtin, undefined);
    assert.deepEqual(r.x, Float64Array.of(1, 2, 3, 4));
  });

  test("anything else is a DataFileError listing the built-in names and the formats", () => {
    const e = assertDataError(
      () => resolveData("moon", keyFromSeed(1), 10),
      "moon",
      /neither a built-in data set/,
    );
    for (const name of TOY2D_NAMES) assert.ok(e.message.includes(name), name);
    assert.match(e.message, /\.csv or \.npy/);
    assertDataError(
      () => resolveData("./moons", keyFromSeed(1), 10),
      "./moons",
      /neither a built-in data set/,
    );
    // A missing file with a data extension is a file error.
    const missing = join(dir, "missing.npy");
    assertDataError(() => resolveData(missing, keyFromSeed(1), 10), missing, /cannot read: no such file$/);
  });
});

describe("bad files: one-line DataFileError naming the file and the place", () => {
  test("CSV: ragged rows, with 1-based line numbers counting the header and blank lines", () => {
    let p = file(".csv", "x,y\n1,2\n3\n");
    assertDataError(() => loadDataFile(p), p, /line 3: 1 field, expected 2 as in the header$/);
    p = file(".csv", "x,y\n1,2\n\n4,5,6\n");
    assertDataError(() => loadDataFile(p), p, /line 4: 3 fields, expected 2/);
    p = file(".csv", "x;y\n1;2\n");
    assertDataError(
      () => loadDataFile(p),
      p,
      /line 2, column 1 \('x;y'\): '1;2' is not a number \(only commas/,
    );
  });

  test("CSV: non-numeric, empty, NaN, infinite and overflowing fields name line, column and column name", () => {
    const cases: [string, RegExp][] = [
      ["x,y\n1,2\n1,abc\n", /line 3, column 2 \('y'\): 'abc' is not a number$/],
      ["x,y\n0x10,2\n", /line 2, column 1 \('x'\): '0x10' is not a number$/],
      ["x,y\n1,2,\n", /line 2: 3 fields, expected 2/],
      ["x,y\n1,\n", /line 2, column 2 \('y'\): empty field$/],
      ['x,y\n1, "" \n', /line 2, column 2 \('y'\): empty field$/],
      ["x,y\n1,NaN\n", /line 2, column 2 \('y'\): NaN is not allowed: data must be finite$/],
      ["x,y\r\n1,2\r\n-inf,2\r\n", /line 3, column 1 \('x'\): -inf is not allowed/],
      ["x,y\n1,Infinity\n", /line 2, column 2 \('y'\): Infinity is not allowed/],
      ["x,y\n1e999,2\n", /line 2, column 1 \('x'\): 1e999 overflows float64/],
      ["x,y\n1,été\n", /line 2, column 2 \('y'\): 'été' is not a number$/],
    ];
    for (const [content, pattern] of cases) {
      const p = file(".csv", content);
      assertDataError(() => loadDataFile(p), p, pattern);
    }
  });

  test("CSV: empty file, blank file, header only, no header, bad column names, binary content", () => {
    const cases: [string | Uint8Array, RegExp][] = [
      ["", /file is empty$/],
      ["\n \r\n\n", /file holds only blank lines$/],
      ["x,y\n", /line 1: header only: the file has no data rows$/],
      ["\n\nx,y\n\n", /line 3: header only/],
      ["1,2\n3,4\n", /line 1: expected a header row of column names, found numbers/],
      [",x,y\n0,1,2\n", /line 1, column 1: empty column name/],
      ["x,y,x\n1,2,3\n", /line 1, column 3: column name 'x' repeats column 1$/],
      [Uint8Array.of(0x78, 0x00, 0x2c, 0x79, 0x0a, 0x31, 0x2c, 0x32), /line 1: the header holds NUL bytes/],
      [
        Uint8Array.of(0x78, 0xff, 0x2c, 0x79, 0x0a, 0x31, 0x2c, 0x32),
        /line 1: the header is not valid UTF-8/,
      ],
      [Uint8Array.of(0xff, 0xfe, 0x78, 0x00), /the file is UTF-16 text/],
      [
        npyRaw("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }", f64Bytes([1])),
        /this is a NumPy \.npy file/,
      ],
    ];
    for (const [content, pattern] of cases) {
      const p = file(".csv", content);
      assertDataError(() => loadDataFile(p), p, pattern);
    }
  });

  test(".npy: magic, version, truncation, dtype, order, rank, empty shapes, data size, header fields", () => {
    const ok = "'fortran_order': False, 'shape': (2, 2)";
    const four = f64Bytes([1, 2, 3, 4]);
    const cases: [Uint8Array | string, RegExp][] = [
      ["x,y\n1,2\n", /not a NumPy \.npy file/],
      [Uint8Array.of(0x93, 0x4e, 0x55), /not a NumPy \.npy file/],
      [
        (() => {
          const b = npyRaw(`{'descr': '<f8', ${ok}, }`, four);
          b[6] = 9;
          return b;
        })(),
        /\.npy format version 9\.0 is not supported/,
      ],
      [npyRaw(`{'descr': '<f8', ${ok}, }`, four).subarray(0, 40), /file is truncated in its header$/],
      [npyRaw(`{'descr': '<i8', ${ok}, }`, four), /header field 'descr': dtype '<i8' is not supported/],
      [npyRaw(`{'descr': '>f8', ${ok}, }`, four), /header field 'descr': dtype '>f8' is not supported/],
      [npyRaw(`{'descr': '|u1', ${ok}, }`, four), /header field 'descr': dtype '\|u1'/],
      [
        npyRaw(`{'descr': '<f8', 'fortran_order': True, 'shape': (2, 2), }`, four),
        /header field 'fortran_order': Fortran order is not supported/,
      ],
      [
        npyRaw(`{'descr': '<f8', 'fortran_order': False, 'shape': (1, 2, 2), }`, four),
        /header field 'shape': \(1, 2, 2\) has 3 dimensions: expected \(n, dim\) or \(n,\)$/,
      ],
      [
        npyRaw(`{'descr': '<f8', 'fortran_order': False, 'shape': (), }`, f64Bytes([1])),
        /header field 'shape': \(\) has 0 dimensions/,
      ],
      [
        npyRaw(`{'descr': '<f8', 'fortran_order': False, 'shape': (0, 2), }`),
        /header field 'shape': \(0, 2\) has no rows$/,
      ],
      [
        npyRaw(`{'descr': '<f8', 'fortran_order': False, 'shape': (3, 0), }`),
        /header field 'shape': \(3, 0\) has no columns$/,
      ],
      [
        npyRaw(`{'descr': '<f8', 'fortran_order': False, 'shape': (-1, 2), }`, four),
        /header field 'shape': \(-1, 2\) is not a tuple of sizes$/,
      ],
      [
        npyRaw(`{'descr': '<f8', 'fortran_order': False, }`, four),
        /header field 'shape': missing or malformed$/,
      ],
      [
        npyRaw(`{'fortran_order': False, 'shape': (2, 2), }`, four),
        /header field 'descr': missing or malformed$/,
      ],
      [
        npyRaw(`{'descr': '<f8', ${ok}, }`, four.subarray(0, 24)),
        /data is 24 bytes, but shape \(2, 2\) of <f8 needs 32 \(truncated file\?\)$/,
      ],
      [
        npyRaw(`{'descr': '<f8', ${ok}, }`, f64Bytes([1, 2, 3, 4, 5])),
        /data is 40 bytes, but shape \(2, 2\) of <f8 needs 32$/,
      ],
      [
        npyRaw(`{'descr': '<f8', ${ok}, }`, f64Bytes([1, 2, 3, Number.NaN])),
        /row 2, column 2: NaN is not allowed: data must be finite$/,
      ],
      [
        npyRaw(`{'descr': '<f4', ${ok}, }`, new Uint8Array(Float32Array.of(1, -Infinity, 3, 4).buffer)),
        /row 1, column 2: -Infinity is not allowed/,
      ],
    ];
    for (const [content, pattern] of cases) {
      const p = file(".npy", content);
      assertDataError(() => loadDataFile(p), p, pattern);
    }
  });

  test("missing file, a directory, an unknown extension, and a control character in the name", () => {
    const missing = join(dir, "nope.csv");
    assertDataError(() => loadDataFile(missing), missing, /cannot read: no such file$/);
    const below = join(file(".csv", "x\n1\n"), "x.csv"); // a parent that is a file
    assertDataError(
      () => loadDataFile(below),
      below,
      /cannot read: no such file \(a parent is not a folder\)$/,
    );
    const folder = join(dir, "folder.csv");
    mkdirSync(folder);
    assertDataError(() => loadDataFile(folder), folder, /cannot read: it is a directory, not a file$/);
    const txt = file(".txt", "x\n1\n");
    assertDataError(
      () => loadDataFile(txt),
      txt,
      /cannot tell the data format from the extension '\.txt': use \.csv or \.npy$/,
    );
    const odd = join(dir, "bad\nname.csv");
    let caught: unknown;
    try {
      loadDataFile(odd);
    } catch (e) {
      caught = e;
    }
    assert.ok(caught instanceof DataFileError);
    assert.ok(!caught.message.includes("\n"));
    assert.ok(caught.message.includes("bad\\x0aname.csv"), caught.message);
  });

  test("a file over the size limit is refused from its size, with limit = 'file-size'", () => {
    assert.equal(DEFAULT_MAX_DATA_BYTES, 2 ** 30);
    const p = file(".csv", "x,y\n1,2\n3,4\n"); // 12 bytes
    const e = assertDataError(
      () => loadDataFile(p, { maxBytes: 11 }),
      p,
      /file is 12 bytes, over the 11 bytes limit for data files$/,
    );
    assert.equal(e.limit, "file-size");
    assert.equal(loadDataFile(p, { maxBytes: 12 }).n, 2);
    const big = file(
      ".npy",
      npyRaw("{'descr': '<f8', 'fortran_order': False, 'shape': (256, 2), }", new Uint8Array(4096)),
    );
    assertDataError(
      () => loadDataFile(big, { maxBytes: 4096 }),
      big,
      /file is 4\.1 KiB, over the 4 KiB limit/,
    );
    assert.throws(() => loadDataFile(p, { maxBytes: 0 }), RangeError);
  });
});
