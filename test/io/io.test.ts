/**
 * File formats: safetensors round trip and corrupt-file errors; .npy header layout, 64-byte alignment
 * and data round trip; CSV header and round trip; atomic writes leave no temporary file on error.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import {
  encodeSafetensors,
  parseSafetensors,
  readSafetensorsFile,
  SafetensorsError,
  writeSafetensorsFile,
} from "../../src/io/safetensors.ts";
import {
  bitsToSpins,
  encodeNpy,
  parseNpy,
  writeChunksAtomic,
  writeSamples,
  writeSamplesCsv,
  writeSamplesNpy,
} from "../../src/io/samples.ts";
import { keyFromSeed, Stream } from "../../src/random/key.ts";

const dir = mkdtempSync(join(tmpdir(), "ebm-io-test-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A safetensors buffer from a raw header object and raw data bytes (no validation). */
function raw(header: unknown, data: Uint8Array = new Uint8Array(0), headerText?: string): Uint8Array {
  const json = new TextEncoder().encode(headerText ?? JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setUint32(0, json.length, true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

function tmpFiles(folder: string): string[] {
  return readdirSync(folder).filter((f) => f.endsWith(".tmp"));
}

describe("safetensors", () => {
  test("round trip: F64 and F32 tensors, scalar and empty shapes, metadata; 8-byte aligned header", () => {
    const w = new Stream(keyFromSeed(1)).fillNormal(new Float64Array(12));
    const bytes = encodeSafetensors(
      {
        weights: { shape: [3, 4], data: w },
        bias: { shape: [4], data: [0.1, -2, 3.5, 1e-30], dtype: "F32" },
        scalar: { shape: [], data: [Math.PI] },
        empty: { shape: [0, 3], data: [] },
      },
      { format: "ebm", note: "test" },
    );
    const headerLen = new DataView(bytes.buffer).getUint32(0, true);
    assert.equal(headerLen % 8, 0);
    const st = parseSafetensors(bytes);
    assert.deepEqual(st.metadata, { format: "ebm", note: "test" });
    assert.deepEqual([...st.tensors.keys()].sort(), ["bias", "empty", "scalar", "weights"]);
    assert.deepEqual(st.getFloat64("weights"), { shape: [3, 4], data: w });
    assert.deepEqual(st.getFloat64("bias").data, Float64Array.from([0.1, -2, 3.5, 1e-30], Math.fround));
    assert.equal(st.tensors.get("bias")?.dtype, "F32");
    assert.deepEqual(st.getFloat64("scalar"), { shape: [], data: Float64Array.of(Math.PI) });
    assert.deepEqual(st.getFloat64("empty"), { shape: [0, 3], data: new Float64Array(0) });
    // F64 tensors come first and start at an 8-byte aligned file offset.
    for (const t of st.tensors.values())
      if (t.dtype === "F64") assert.equal((8 + headerLen + t.begin) % 8, 0);
  });

  test("file round trip through writeSafetensorsFile / readSafetensorsFile", () => {
    const path = join(dir, "st", "model.safetensors");
    writeSafetensorsFile(path, { a: { shape: [2, 2], data: [1, 2, 3, 4] } });
    assert.deepEqual(readSafetensorsFile(path).getFloat64("a").data, Float64Array.of(1, 2, 3, 4));
    assert.deepEqual(tmpFiles(join(dir, "st")), []);
  });

  test("decodes F16 and BF16", () => {
    const data = new Uint8Array(12);
    const v = new DataView(data.buffer);
    // F16: 1.0 = 0x3c00, −2.5 = 0xc100, 65504 = 0x7bff; BF16: 1.0 = 0x3f80, −0.15625 = 0xbe20, 3.0 = 0x4040.
    [0x3c00, 0xc100, 0x7bff, 0x3f80, 0xbe20, 0x4040].forEach((h, i) => {
      v.setUint16(2 * i, h, true);
    });
    const st = parseSafetensors(
      raw(
        {
          h: { dtype: "F16", shape: [3], data_offsets: [0, 6] },
          b: { dtype: "BF16", shape: [3], data_offsets: [6, 12] },
        },
        data,
      ),
    );
    assert.deepEqual([...st.getFloat64("h").data], [1, -2.5, 65504]);
    assert.deepEqual([...st.getFloat64("b").data], [1, -0.15625, 3]);
  });

  const good = { t: { dtype: "F64", shape: [2], data_offsets: [0, 16] } };
  const cases: [string, Uint8Array, RegExp][] = [
    ["too short", new Uint8Array(5), /too short/],
    ["header length past the end", raw(good).subarray(0, 20), /runs past the end/],
    ["header not JSON", raw(null, new Uint8Array(0), "{not json"), /not valid JSON/],
    ["header not an object", raw([1, 2]), /not a JSON object/],
    [
      "unknown dtype",
      raw({ t: { dtype: "F128", shape: [1], data_offsets: [0, 16] } }, new Uint8Array(16)),
      /unknown dtype/,
    ],
    [
      "bad shape",
      raw({ t: { dtype: "F64", shape: [-1], data_offsets: [0, 8] } }, new Uint8Array(8)),
      /shape/,
    ],
    [
      "size mismatch",
      raw({ t: { dtype: "F64", shape: [3], data_offsets: [0, 16] } }, new Uint8Array(16)),
      /needs 24 bytes/,
    ],
    ["offsets past the data", raw(good, new Uint8Array(8)), /run past the end of the data/],
    ["gap", raw({ t: { dtype: "F64", shape: [1], data_offsets: [8, 16] } }, new Uint8Array(16)), /gap/],
    [
      "overlap",
      raw(
        {
          a: { dtype: "F64", shape: [2], data_offsets: [0, 16] },
          b: { dtype: "F64", shape: [1], data_offsets: [8, 16] },
        },
        new Uint8Array(16),
      ),
      /overlap/,
    ],
    ["trailing bytes", raw(good, new Uint8Array(24)), /cover 16/],
    ["bad metadata", raw({ __metadata__: { a: 1 } }), /__metadata__/],
  ];
  for (const [name, bytes, re] of cases)
    test(`rejects a corrupt file: ${name}`, () => {
      assert.throws(
        () => parseSafetensors(bytes),
        (err: Error) =>
          err instanceof SafetensorsError && re.test(err.message) && !err.message.includes("\n"),
      );
    });

  test("readSafetensorsFile: regular files only, a size cap, the header length checked before reading", () => {
    const good = join(dir, "ok.safetensors");
    writeSafetensorsFile(good, { t: { shape: [2], data: [1, 2] } });
    assert.deepEqual([...readSafetensorsFile(good, { maxBytes: 1000 }).getFloat64("t").data], [1, 2]);
    const refused = (path: string, maxBytes: number | undefined, problem: string, re: RegExp) =>
      assert.throws(
        () => readSafetensorsFile(path, { maxBytes }),
        (err: Error) => err instanceof SafetensorsError && err.problem === problem && re.test(err.message),
      );
    refused(good, 10, "too-large", /^is \d+ bytes, over the limit of 10 bytes$/);
    refused("/dev/zero", undefined, "not-regular", /^is a character device, not a regular file$/);
    refused(dir, undefined, "not-regular", /^is a folder, not a regular file$/);
    // A text file: its first 8 bytes are not a length, and the message does not show them as one.
    const text = join(dir, "text.safetensors");
    writeFileSync(text, "root:x:0:0:root:/root:/bin/bash\n");
    refused(
      text,
      undefined,
      "format",
      /^the header length in its first 8 bytes runs past the end of the file \(32 bytes\)/,
    );
    // A header that is not JSON: no snippet of it in the message.
    refused(
      (() => {
        const p = join(dir, "nojson.safetensors");
        writeFileSync(p, raw(null, new Uint8Array(0), "password=hunter2"));
        return p;
      })(),
      undefined,
      "format",
      /^header is not valid JSON \(16 bytes after the length field\)$/,
    );
    // Names with control characters are escaped.
    assert.throws(
      () => parseSafetensors(raw({ "a\u001bb": { dtype: "X", shape: [], data_offsets: [0, 0] } })),
      /tensor 'a\\x1bb': unknown dtype/,
    );
  });

  test("unsupported dtype and missing tensor are reported when decoding", () => {
    const st = parseSafetensors(
      raw(
        {
          i: { dtype: "I64", shape: [2], data_offsets: [0, 16] },
          f: { dtype: "F64", shape: [0], data_offsets: [16, 16] },
        },
        new Uint8Array(16),
      ),
    );
    assert.deepEqual(st.getFloat64("f").data, new Float64Array(0));
    assert.throws(() => st.getFloat64("i"), /dtype I64 is not supported \(supported: F64, F32, F16, BF16\)/);
    assert.throws(() => st.getFloat64("nope"), /tensor 'nope' is missing/);
  });
});

describe(".npy", () => {
  const rows = 5;
  const dim = 3;
  const data = new Stream(keyFromSeed(2)).fillNormal(new Float64Array(rows * dim));

  test("header layout: magic, version 1.0, dict, padding to 64 bytes; data round trip", () => {
    const bytes = encodeNpy({ data, rows, dim });
    assert.deepEqual([...bytes.subarray(0, 8)], [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
    const headerLen = bytes[8] | (bytes[9] << 8);
    assert.equal((10 + headerLen) % 64, 0);
    const header = Buffer.from(bytes.subarray(10, 10 + headerLen)).toString("latin1");
    assert.match(header, /^\{'descr': '<f8', 'fortran_order': False, 'shape': \(5, 3\), \} *\n$/);
    assert.equal(bytes.length, 10 + headerLen + rows * dim * 8);
    const back = parseNpy(bytes);
    assert.equal(back.descr, "<f8");
    assert.deepEqual(back.shape, [rows, dim]);
    assert.deepEqual(back.data, data);
  });

  test("spins and bits are written as |i1", () => {
    const spins = Float64Array.of(1, -1, -1, 1, 1, 1);
    const s = parseNpy(encodeNpy({ data: spins, rows: 2, dim: 3, kind: "spins" }));
    assert.equal(s.descr, "|i1");
    assert.deepEqual(s.shape, [2, 3]);
    assert.deepEqual(s.data, Int8Array.of(1, -1, -1, 1, 1, 1));
    const b = parseNpy(encodeNpy({ data: Uint8Array.of(0, 1, 1, 0), rows: 2, dim: 2, kind: "bits" }));
    assert.deepEqual(b.data, Int8Array.of(0, 1, 1, 0));
  });

  test("file written in chunks equals the in-memory encoding", () => {
    const big = new Stream(keyFromSeed(3)).fillNormal(new Float64Array(20_000 * 4));
    const table = { data: big, rows: 20_000, dim: 4 };
    const p1 = join(dir, "a.npy");
    const p2 = join(dir, "b.npy");
    writeSamplesNpy(p1, table);
    writeSamplesNpy(p2, table, { maxInMemoryBytes: 1000 });
    const expected = encodeNpy(table);
    assert.deepEqual(new Uint8Array(readFileSync(p1)), expected);
    assert.deepEqual(new Uint8Array(readFileSync(p2)), expected);
    assert.deepEqual(tmpFiles(dir), []);
  });

  test("a subarray view is written from its own offset", () => {
    const buf = Float64Array.of(9, 9, 1, 2, 3, 4);
    const back = parseNpy(encodeNpy({ data: buf.subarray(2), rows: 2, dim: 2 }));
    assert.deepEqual(back.data, Float64Array.of(1, 2, 3, 4));
  });
});

/** Minimal CSV reader for the writer's output. */
function readCsv(path: string): { header: string[]; rows: number[][] } {
  const lines = readFileSync(path, "utf8").split("\n");
  assert.equal(lines.pop(), "", "file ends with a newline");
  return { header: lines[0].split(","), rows: lines.slice(1).map((l) => l.split(",").map(Number)) };
}

describe("CSV", () => {
  test("header x0,x1,… and exact float64 round trip", () => {
    const values = [
      1 / 3,
      -0.1,
      1e-300,
      5e-324,
      1.7976931348623157e308,
      123456789.123,
      -2.5e-8,
      0,
      42,
      Math.PI,
      -Math.E,
      1e21,
    ];
    const data = Float64Array.from(values);
    const path = join(dir, "x.csv");
    writeSamplesCsv(path, { data, rows: 4, dim: 3 });
    const { header, rows } = readCsv(path);
    assert.deepEqual(header, ["x0", "x1", "x2"]);
    assert.equal(rows.length, 4);
    assert.deepEqual(Float64Array.from(rows.flat()), data);
  });

  test("bits as 0/1, spins as -1/1", () => {
    const p = join(dir, "s.csv");
    writeSamplesCsv(p, { data: Int8Array.of(-1, 1, 1, -1), rows: 2, dim: 2, kind: "spins" });
    assert.equal(readFileSync(p, "utf8"), "x0,x1\n-1,1\n1,-1\n");
    writeSamplesCsv(p, { data: Float64Array.of(0, 1, 1), rows: 1, dim: 3, kind: "bits" });
    assert.equal(readFileSync(p, "utf8"), "x0,x1,x2\n0,1,1\n");
    writeSamplesCsv(p, { data: bitsToSpins(Uint8Array.of(0, 1, 1, 0)), rows: 2, dim: 2, kind: "spins" });
    assert.equal(readFileSync(p, "utf8"), "x0,x1\n-1,1\n1,-1\n");
  });

  test("rows are written in the given (draw-major) order; zero rows gives the header only", () => {
    const p = join(dir, "o.csv");
    writeSamples(p, { data: Float64Array.of(0, 1, 2, 3), rows: 4, dim: 1 });
    assert.equal(readFileSync(p, "utf8"), "x0\n0\n1\n2\n3\n");
    writeSamples(p, { data: new Float64Array(0), rows: 0, dim: 2 });
    assert.equal(readFileSync(p, "utf8"), "x0,x1\n");
  });

  test("with chains: chain and draw columns (row t·C + c is draw t of chain c); .npy stays the plain array", () => {
    const p = join(dir, "cd.csv");
    // 3 draws × 2 chains × 1 coordinate, draw-major.
    const table = { data: Float64Array.of(10, 20, 11, 21, 12, 22), rows: 6, dim: 1, chains: 2 };
    writeSamples(p, table);
    assert.equal(readFileSync(p, "utf8"), "chain,draw,x0\n0,0,10\n1,0,20\n0,1,11\n1,1,21\n0,2,12\n1,2,22\n");
    writeSamplesCsv(p, { data: Int8Array.of(-1, 1, 1, -1), rows: 2, dim: 2, kind: "spins", chains: 1 });
    assert.equal(readFileSync(p, "utf8"), "chain,draw,x0,x1\n0,0,-1,1\n0,1,1,-1\n");
    const npy = parseNpy(encodeNpy(table));
    assert.deepEqual(npy.shape, [6, 1]);
    assert.deepEqual([...npy.data], [10, 20, 11, 21, 12, 22]);
    assert.throws(() => writeSamples(p, { ...table, chains: 0 }), /chains must be an integer ≥ 1/);
  });

  test("chunked CSV equals the in-memory CSV", () => {
    const n = 300_000;
    const data = new Stream(keyFromSeed(4)).fillNormal(new Float64Array(n * 2));
    const p1 = join(dir, "m.csv");
    const p2 = join(dir, "c.csv");
    writeSamplesCsv(p1, { data, rows: n, dim: 2 });
    writeSamplesCsv(p2, { data, rows: n, dim: 2 }, { maxInMemoryBytes: 1 << 20 });
    assert.ok(readFileSync(p1).equals(readFileSync(p2)));
    assert.deepEqual(Float64Array.from(readCsv(p2).rows.flat()), data);
  });
});

describe("atomic writes", () => {
  test("an invalid spin is rejected before anything is written", () => {
    const p = join(dir, "bad.csv");
    assert.throws(
      () => writeSamplesCsv(p, { data: Float64Array.of(1, 0), rows: 1, dim: 2, kind: "spins" }),
      /spins must be -1 or 1, got 0 at row 0, column 1/,
    );
    assert.throws(
      () => writeSamplesNpy(p, { data: Float64Array.of(2), rows: 1, dim: 1, kind: "bits" }),
      /bits/,
    );
    assert.throws(() => readFileSync(p), /ENOENT/);
    assert.throws(() => writeSamples(join(dir, "x.txt"), { data: [1], rows: 1, dim: 1 }), /\.csv or \.npy/);
    assert.throws(() => writeSamples(join(dir, "y.csv"), { data: [1], rows: 2, dim: 1 }), /need rows × dim/);
  });

  for (const limit of [1 << 30, 10])
    test(`an error while streaming (${limit > 100 ? "in memory" : "temp file"}) keeps the old file, no temp left`, () => {
      const sub = join(dir, `atomic-${limit}`);
      mkdirSync(sub);
      const p = join(sub, "out.csv");
      writeFileSync(p, "old");
      function* chunks(): Generator<string> {
        yield "x0\n";
        yield "1\n2\n3\n4\n5\n";
        throw new Error("sampler failed");
      }
      assert.throws(() => writeChunksAtomic(p, chunks(), limit), /sampler failed/);
      assert.equal(readFileSync(p, "utf8"), "old");
      assert.deepEqual(readdirSync(sub), ["out.csv"]);
    });

  test("a failing rename (destination is a directory) leaves no temp file", () => {
    const sub = join(dir, "atomic-dir");
    mkdirSync(join(sub, "out.npy"), { recursive: true });
    const table = { data: new Float64Array(4000), rows: 1000, dim: 4 };
    assert.throws(() => writeSamplesNpy(join(sub, "out.npy"), table));
    assert.throws(() => writeSamplesNpy(join(sub, "out.npy"), table, { maxInMemoryBytes: 100 }));
    assert.deepEqual(readdirSync(sub), ["out.npy"]);
  });
});
