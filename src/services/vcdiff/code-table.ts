/** RFC 3284 §5.6 default instruction code table, as parallel typed arrays indexed by the instruction code. */
export const NOOP = 0;
export const ADD = 1;
export const RUN = 2;
export const COPY = 3;

export interface CodeTable {
  readonly type1: Uint8Array;
  readonly size1: Uint8Array;
  readonly mode1: Uint8Array;
  readonly type2: Uint8Array;
  readonly size2: Uint8Array;
  readonly mode2: Uint8Array;
}

/** Near cache slots (s_near) and same cache blocks (s_same) of the default table. */
export const NEAR_SIZE = 4;
export const SAME_SIZE = 3;

function buildDefaultCodeTable(): CodeTable {
  const t = {
    type1: new Uint8Array(256),
    size1: new Uint8Array(256),
    mode1: new Uint8Array(256),
    type2: new Uint8Array(256),
    size2: new Uint8Array(256),
    mode2: new Uint8Array(256),
  };
  let i = 0;
  const set = (type1: number, size1: number, mode1: number, type2 = NOOP, size2 = 0, mode2 = 0) => {
    t.type1[i] = type1;
    t.size1[i] = size1;
    t.mode1[i] = mode1;
    t.type2[i] = type2;
    t.size2[i] = size2;
    t.mode2[i] = mode2;
    i++;
  };
  set(RUN, 0, 0);
  for (let size = 0; size <= 17; size++) set(ADD, size, 0);
  for (let mode = 0; mode <= 8; mode++) {
    set(COPY, 0, mode);
    for (let size = 4; size <= 18; size++) set(COPY, size, mode);
  }
  for (let mode = 0; mode <= 5; mode++) {
    for (let add = 1; add <= 4; add++) {
      for (let copy = 4; copy <= 6; copy++) set(ADD, add, 0, COPY, copy, mode);
    }
  }
  for (let mode = 6; mode <= 8; mode++) {
    for (let add = 1; add <= 4; add++) set(ADD, add, 0, COPY, 4, mode);
  }
  for (let mode = 0; mode <= 8; mode++) set(COPY, 4, mode, ADD, 1, 0);
  if (i !== 256) throw new Error(`default code table has ${i} entries`);
  return t;
}

export const DEFAULT_CODE_TABLE: CodeTable = buildDefaultCodeTable();
