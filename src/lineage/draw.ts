// The graph column of `git mgit log-lineage`, drawn as `git log --graph` draws commits: one lane per
// node still expected below, `*` on a node's line, `|` for lanes passing by, `\` and `/` where lanes
// split towards several parents or merge into one. Nodes must come children first; a parent that was
// already drawn above (a cycle at model level) gets no lane: the text lines still name it.
// Pure: keys and parent keys in, lines of characters (and lane numbers, for colours) out.

export interface DrawNode {
  key: string;
  parents: string[];
}

/** One output row: graph characters, and for each the lane it belongs to (for colouring), or -1. */
export interface Row {
  chars: string[];
  lanes: number[];
  kind: 'node' | 'body' | 'edge';
  /** index of the node this row belongs to */
  node: number;
}

interface Line {
  pos: number;
  target: number;
  lane: number;
}

function blank(width: number, kind: Row['kind'], node: number): Row {
  return { chars: new Array<string>(width).fill(' '), lanes: new Array<number>(width).fill(-1), kind, node };
}

function put(row: Row, at: number, ch: string, lane: number): void {
  row.chars[at] = ch;
  row.lanes[at] = lane;
}

function rowOf(lines: Line[], width: number, kind: Row['kind'], node: number, star?: number): Row {
  const row = blank(width, kind, node);
  for (const l of lines) {
    const at = 2 * l.pos;
    if (at < width && row.chars[at] === ' ') put(row, at, '|', l.lane);
  }
  if (star !== undefined) put(row, 2 * star, '*', -1);
  return row;
}

/** Rows that move every line one column per row from `pos` to `target`. */
function transition(lines: Line[], node: number): Row[] {
  const rows: Row[] = [];
  let widest = 0;
  for (const l of lines) widest = Math.max(widest, l.pos, l.target);
  for (let guard = 0; guard < 64 && lines.some((l) => l.pos !== l.target); guard++) {
    const row = blank(2 * widest + 2, 'edge', node);
    for (const l of lines) {
      if (l.target === l.pos) {
        if (row.chars[2 * l.pos] === ' ') put(row, 2 * l.pos, '|', l.lane);
      } else if (l.target < l.pos) {
        put(row, 2 * l.pos - 1, '/', l.lane);
        l.pos--;
      } else {
        put(row, 2 * l.pos + 1, '\\', l.lane);
        l.pos++;
      }
    }
    rows.push(row);
  }
  return rows;
}

/**
 * Lays out nodes (children first). `bodyLines(i)` is how many text lines node i has after its first;
 * the result has, per node, its node row, body rows, then any rows that move lanes into place.
 */
export function drawGraph(nodes: DrawNode[], bodyLines: (i: number) => number): Row[] {
  const rows: Row[] = [];
  let lanes: string[] = []; // key each lane waits for, left to right
  let laneIds: number[] = []; // a stable number per lane, for colours
  let nextLane = 0;
  const drawn = new Set<string>();
  nodes.forEach((n, i) => {
    // Lanes waiting for this node merge into the leftmost one.
    let col = lanes.indexOf(n.key);
    if (col < 0) {
      col = lanes.length;
      lanes.push(n.key);
      laneIds.push(nextLane++);
    }
    if (lanes.filter((k) => k === n.key).length > 1) {
      const keep = lanes.map((k, j) => k !== n.key || j === col);
      const newIndex: number[] = [];
      let c = 0;
      keep.forEach((k, j) => (newIndex[j] = k ? c++ : -1));
      const lines = lanes.map((k, j) => ({ pos: j, target: k === n.key ? newIndex[col] : newIndex[j], lane: laneIds[j] }));
      rows.push(...transition(lines, i));
      laneIds = laneIds.filter((_, j) => keep[j]);
      lanes = lanes.filter((_, j) => keep[j]);
      col = lanes.indexOf(n.key);
    }
    drawn.add(n.key);
    const others = lanes.map((_, j) => ({ pos: j, target: j, lane: laneIds[j] })).filter((l) => l.pos !== col);
    const width = 2 * lanes.length - 1;
    rows.push(rowOf(others, width, 'node', i, col));

    // Below the node: its first parent takes its lane, further parents get new lanes beside it.
    const parents = n.parents.filter((p) => !drawn.has(p));
    const continues = parents.length > 0;
    const bodyRow = rowOf([...others, ...(continues ? [{ pos: col, target: col, lane: laneIds[col] }] : [])], width, 'body', i);
    for (let b = 0; b < bodyLines(i); b++) rows.push(bodyRow); // rows are never modified once made

    const lines: Line[] = [];
    const nextLanes: string[] = [];
    const nextIds: number[] = [];
    lanes.forEach((k, j) => {
      if (j === col) {
        parents.forEach((p, pi) => {
          lines.push({ pos: col, target: nextLanes.length, lane: pi === 0 ? laneIds[j] : nextLane });
          nextLanes.push(p);
          nextIds.push(pi === 0 ? laneIds[j] : nextLane++);
        });
      } else {
        lines.push({ pos: j, target: nextLanes.length, lane: laneIds[j] });
        nextLanes.push(k);
        nextIds.push(laneIds[j]);
      }
    });
    rows.push(...transition(lines, i));
    lanes = nextLanes;
    laneIds = nextIds;
  });
  return rows;
}
