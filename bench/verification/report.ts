// The Markdown of bench/VERIFICATION.md.
import {
  checkRate,
  DEFAULT_ECONOMICS,
  policyFor,
  ringerRate,
  TRUSTED_SCORE,
} from '@tessera/verification';
import { PATCH_FRACTION } from './cheats';
import { CostRow, SIMULATED_TILES, timeCost } from './cost';
import {
  DEMO_GRID,
  DEMO_SCENE,
  DETECTION_FRAMES,
  ClassResult,
  DetectionResult,
  FEW_SAMPLES,
  HONEST_THREADS,
  OTHER_SEED,
  SUSPECT_THREADS,
} from './detection';
import { HONEST_FRAMES, HonestResult, LAYOUTS, SMALL_SCENE } from './honest';
import {
  EconomicsRow,
  FAKED_SHARE,
  JobCell,
  JOB_SIZES,
  KAPPA,
  Mode,
  MODES,
  Reputations,
  trialsFor,
} from './jobs';
import { Machine } from '../lib/machine';
import { perMp, SpeedResult, SPEED_RUNS, Timing } from './speed';
import { HonestTally, METRICS, TOLERANCE } from './tally';

export interface VerificationBenchResults {
  machine: Machine;
  loadAtEnd: number;
  durationS: number;
  detection: DetectionResult;
  jobs: Map<string, JobCell[]>;
  economics: Map<string, EconomicsRow[]>;
  reputations: Reputations;
  honest: HonestResult;
  cost: CostRow[];
  speed: SpeedResult;
}

export const TARGETS = {
  wholeTile: 0.99,
  marginAwareNew: 0.99,
  falseRejections: 0,
  minHonest: 500,
  costNew: 0.25,
  costTrusted: 0.05,
  speed: 0.02,
};

const meets = (ok: boolean) => (ok ? 'yes' : '**no**');

function pct(x: number, digits = 1): string {
  if (x >= 1) return '100%';
  const s = (x * 100).toFixed(digits);
  if (Number(s) >= 100) return `>${(100 - 10 ** -digits).toFixed(digits)}%`;
  return `${s}%`;
}

const num = (x: number, digits = 1) => x.toFixed(digits);
const frac = (k: number, n: number) => `${k}/${n}`;
const scoreName = (s: number) =>
  s === 0 ? 'new (0)' : s === TRUSTED_SCORE ? `trusted (${s})` : String(s);

export function renderReport(r: VerificationBenchResults): string {
  const m = r.machine;
  const out: string[] = [
    '# Tessera verification benchmarks',
    '',
    'Written by `node dist/bench/verification/run.js` (source: `bench/verification/`; `bench/run.ts` calls',
    'the same `runVerificationBench()`). Every number below comes from the run described here: real Cycles renders',
    "through the render-node's `BlenderTileWorker`, the real `compareRenders` of",
    '`@tessera/verification` in both modes, and its policy maths with the standard policy',
    '(`policyFor()`, the default). Benchmarks, not tests: targets are printed next to the results and',
    'nothing fails when one is missed. Random choices (crop positions, patches, simulated jobs) use',
    '`seededRng` so a run is repeatable; the coordinator draws the same decisions from `cryptoRng()`.',
    '',
    '| machine | |',
    '| --- | --- |',
    `| date | ${m.date} |`,
    `| CPU | ${m.nproc} x ${m.cpuModel} (nproc ${m.nproc}), ${m.memoryGiB} GiB RAM |`,
    `| Node.js | ${m.node} |`,
    `| Blender | ${m.blender} (CPU, Cycles; ${r.detection.renders + r.honest.renders} tile-worker renders + ${r.honest.kernelRenders} SSE4.1-kernel renders) |`,
    `| commit | ${m.commit} |`,
    `| load average (1 min), start / end | ${num(m.loadAtStart, 2)} / ${num(r.loadAtEnd, 2)} |`,
    `| run time | ${num(r.durationS, 0)} s |`,
    '',
  ];
  out.push(...summary(r), ...detectionSection(r), ...honestSection(r), ...costSection(r));
  out.push(...speedSection(r), ...notesSection(r));
  return out.join('\n') + '\n';
}

// ---------------------------------------------------------------- summary

function requiredWhole(r: VerificationBenchResults) {
  return r.detection.classes.filter((c) => c.cls.required && c.cls.group === 'whole-tile');
}

function cell(r: VerificationBenchResults, id: string, score: number, tiles: number): JobCell {
  return r.jobs.get(id)!.find((c) => c.score === score && c.tiles === tiles)!;
}

function honestTotals(tallies: HonestTally[]) {
  return tallies.reduce(
    (s, t) => ({
      n: s.n + t.n,
      identical: s.identical + t.identical,
      exact: s.exact + t.exactRejections,
      perceptual: s.perceptual + t.perceptualRejections,
    }),
    { n: 0, identical: 0, exact: 0, perceptual: 0 },
  );
}

/**
 * (2 decodes + the slowest comparison of the mode) / the render, per MP. Conservative: median
 * decode and compare times against the fastest render; `fastest*`: fastest against fastest.
 */
function speedRatios(s: SpeedResult) {
  const mp = (s.width * s.height) / 1e6;
  const renderPerMp = s.renderMs / mp;
  const cost = (mode: 'exact' | 'perceptual', pick: (t: Timing) => number) =>
    (2 * pick(s.decode) + Math.max(...s.compare[mode].map(pick))) / mp / renderPerMp;
  return {
    renderPerMp,
    exact: cost('exact', (t) => t.medianMs),
    perceptual: cost('perceptual', (t) => t.medianMs),
    fastestExact: cost('exact', (t) => t.minMs),
    fastestPerceptual: cost('perceptual', (t) => t.minMs),
  };
}

function lowestWhole(r: VerificationBenchResults, mode: Mode, checkerboard = false) {
  let lowest = { value: 2, label: '', id: '', score: 0 };
  for (const c of requiredWhole(r)) {
    for (const s of [0, TRUSTED_SCORE, 1]) {
      const x = cell(r, c.cls.id, s, 100);
      const v = (checkerboard ? x.closedCheckerboard : x.closed)[mode];
      if (v < lowest.value) lowest = { value: v, label: c.cls.label, id: c.cls.id, score: s };
    }
  }
  return lowest;
}

function summary(r: VerificationBenchResults): string[] {
  const whole = requiredWhole(r);
  const we = lowestWhole(r, 'exact');
  const wp = lowestWhole(r, 'perceptual');
  const weC = lowestWhole(r, 'exact', true);
  const wpC = lowestWhole(r, 'perceptual', true);
  const ma = (mode: Mode, s: number, n: number) => cell(r, 'margin-aware', s, n).closed[mode];
  const maNewOk = (mode: Mode) =>
    ma(mode, 0, 100) >= TARGETS.marginAwareNew && ma(mode, 0, 1000) >= TARGETS.marginAwareNew;
  const ev = r.economics.get('margin-aware')!;
  const evTrusted100 = ev.find((e) => e.score === TRUSTED_SCORE && e.tiles === 100)!;
  const evTrusted1 = ev.find((e) => e.score === TRUSTED_SCORE && e.tiles === 1)!;
  const worstEv = Math.max(...[...r.economics.values()].flat().map((e) => e.bestExpectedValue));
  const paint = (mode: Mode, s: number) => pct(cell(r, 'painted', s, 100).closed[mode]);
  const same = honestTotals([...r.detection.honest, ...r.honest.sameDevice]);
  const cross = honestTotals(r.honest.crossKernel);
  const newCost = Math.max(
    ...r.cost.filter((c) => c.score === 0).map((c) => c.formula.verificationRatio),
  );
  const trustedCost = Math.max(
    ...r.cost.filter((c) => c.score === TRUSTED_SCORE).map((c) => c.formula.verificationRatio),
  );
  const demoOverlap = r.cost[0].formula.overlapRatio;
  const sp = speedRatios(r.speed);
  const at = (l: { value: number; label: string; score: number }) =>
    l.value >= 1
      ? '100% for every class and score'
      : `lowest ${pct(l.value, 2)} (${l.label}, score ${l.score})`;
  return [
    '## Summary',
    '',
    `A node fakes ${pct(FAKED_SHARE, 0)} of its N tiles in a job (N = 100 unless said). "New" is score 0, "trusted"`,
    `is \`TRUSTED_SCORE\` = ${TRUSTED_SCORE} (a node with ${Math.round(r.reputations.trustedEvidence)} passed checks, built with \`updateReputation\`; one failed`,
    `check takes it back to ${num(r.reputations.afterFailure, 2)}). Job-level figures combine the per-check detection measured on real`,
    'renders (section 1a, on the tiles the cheat actually changed) with the policy maths (closed form; a',
    "Monte Carlo of the coordinator's decisions agrees, see 1b). **Exact** mode is what the coordinator uses",
    'between nodes of the same Blender build and device class, **perceptual** mode between device classes.',
    '',
    '| # | benchmark | target | result | met |',
    '| --- | --- | --- | --- | --- |',
    `| 1 | whole-tile cheats (${whole.map((c) => c.cls.label).join(', ')}), caught per job, N = 100, score 0 / ${TRUSTED_SCORE} / 1; neighbours by other nodes all round (kappa = 1, as measured), **exact** / **perceptual** mode | >= 99% at any score | ${at(weC)} / ${at(wpC)} | ${meets(weC.value >= TARGETS.wholeTile)} / ${meets(wpC.value >= TARGETS.wholeTile)} |`,
    `| 1 | the same at overlap coverage kappa = ${KAPPA}, one cross-checked strip per covered tile (conservative), exact / perceptual | >= 99% at any score | ${at(we)} / ${at(wp)} | ${meets(we.value >= TARGETS.wholeTile)} / ${meets(wp.value >= TARGETS.wholeTile)} |`,
    `| 1 | margin-aware (correct overlaps, faked interior), new node, N = 100 (1000), exact / perceptual | >= 99% | ${pct(ma('exact', 0, 100), 2)} (${pct(ma('exact', 0, 1000), 2)}) / ${pct(ma('perceptual', 0, 100), 2)} (${pct(ma('perceptual', 0, 1000), 2)}) | ${meets(maNewOk('exact'))} / ${meets(maNewOk('perceptual'))} |`,
    `| 1 | margin-aware, trusted node, N = 100: per-job detection (exact / perceptual); EV of cheating at stake ${DEFAULT_ECONOMICS.stake} tile rewards (perceptual rates) | report; EV < 0 | ${pct(ma('exact', TRUSTED_SCORE, 100))} / ${pct(ma('perceptual', TRUSTED_SCORE, 100))} of jobs; EV ${num(evTrusted100.expectedValue)} at K = 5, ${num(evTrusted100.bestExpectedValue)} at the best K (${evTrusted100.bestK}); one-tile job: EV ${num(evTrusted1.expectedValue)}; highest EV of any case in the EV table: ${num(worstEv)} | ${meets(worstEv < 0)} |`,
    `| 1 | 10% of the interior painted magenta, N = 100, new / trusted, exact (perceptual) | report | ${paint('exact', 0)} (${paint('perceptual', 0)}) / ${paint('exact', TRUSTED_SCORE)} (${paint('perceptual', TRUSTED_SCORE)}) | - |`,
    `| 2 | false rejections of honest work, same device class: ${same.n} comparisons, each in exact and perceptual mode (1 vs 2 threads, 4 tile layouts, borders, margins, frames) | 0, over >= ${TARGETS.minHonest} | exact ${same.exact}, perceptual ${same.perceptual} | ${meets(same.exact === 0 && same.perceptual === 0 && same.n >= TARGETS.minHonest)} |`,
    `| 2 | honest work against another CPU kernel (SSE4.1, not bit-identical), perceptual mode: ${cross.n} comparisons | 0 | ${cross.perceptual} | ${meets(cross.perceptual === 0)} |`,
    `| 3 | verification px / useful px, new node, worst of ${new Set(r.cost.map((c) => c.grid)).size} grids | <= 25% | ${pct(newCost)} (overlap margins apart: ${pct(demoOverlap)} on the demo grid) | ${meets(newCost <= TARGETS.costNew)} |`,
    `| 3 | verification px / useful px, trusted node | <= 5% | ${pct(trustedCost)} | ${meets(trustedCost <= TARGETS.costTrusted)} |`,
    `| 4 | decode both PNGs + compare, per MP, vs rendering the same pixels (${r.speed.width}x${r.speed.height}, ${DEMO_SCENE.samples} samples): exact / perceptual | <= 2% | ${pct(sp.exact, 2)} / ${pct(sp.perceptual, 2)} | ${meets(sp.exact <= TARGETS.speed && sp.perceptual <= TARGETS.speed)} |`,
    '',
  ];
}

// ---------------------------------------------------------------- 1. detection

function detectionSection(r: VerificationBenchResults): string[] {
  const d = r.detection;
  const policy = policyFor('standard');
  const g = d.grid;
  const inner = g[DEMO_GRID.tilesX + 1];
  const out = [
    '## 1. Detection per cheat class',
    '',
    '### 1a. Per check, on real renders',
    '',
    `Scene: the demo-like test scene, ${DEMO_SCENE.width}x${DEMO_SCENE.height}, ${DEMO_SCENE.samples} samples, seed ${DEMO_SCENE.seed}, dither 0, frames ${DETECTION_FRAMES.join(', ')}.`,
    `Tiles: the demo's ${DEMO_GRID.tilesX}x${DEMO_GRID.tilesY} grid with ${DEMO_GRID.overlap} px overlap margins (\`gridTiles\`; an inner tile leases ${inner.region.width}x${inner.region.height} px),`,
    `leased in a checkerboard: the suspect node renders ${d.suspectTilesPerFrame} tiles per frame with ${SUSPECT_THREADS} thread, honest neighbours the`,
    `other ${g.length - d.suspectTilesPerFrame} with ${HONEST_THREADS} threads, so every interior edge of a suspect tile is shared with another node. Each`,
    `cheat class is applied to each of the ${d.instances} suspect tiles as \`test/support/cheats.ts\` does (re-implemented in`,
    `\`bench/verification/cheats.ts\`; the classes that need Blender are real renders: ${FEW_SAMPLES} of ${DEMO_SCENE.samples} samples, the previous`,
    `frame, seed ${OTHER_SEED}), then checked as the coordinator does (\`verification.service.ts\`):`,
    '',
    '- **overlap**: every strip the tile shares with an honest neighbour, cut out of both tiles with `intersectRegions` / `frameRegionOfTile`;',
    `- **crop**: ${d.checksPerTile} secret crop checks per tile, each placed by \`planCropCheck\` (standard: ${policy.cropsPerCheck} crop of ${pct(policy.cropFraction, 0)} of the interior,`,
    `  ${Math.round(d.cropPixels / d.crops)} px on average) and **re-rendered by a checker through the tile worker** (${d.crops} crop renders), compared with the same pixels of the uploaded tile;`,
    '- **ringer**: the whole tile against its known answer (an honest full-frame render).',
    '',
    'Flagged = `compareRenders` says mismatch. "Lands" = the crop overlaps the faked pixels (always, except for',
    'patches). The top row of the frame is flat sky, and there some cheats **are** the right answer: 1/8',
    'of the samples, another frame, another seed or an upscale of a flat colour give pixels bit-identical',
    'to the honest render. Those tiles are not wrong and no check can catch them, so the rates below (and the',
    'job-level figures) are over the tiles the cheat changed ("changed"); the last column gives d over every',
    'faked tile for comparison.',
    '',
    '| cheat | tiles changed | strips flagged, exact / perceptual | crop checks landing | crop flagged, exact | crop flagged, perceptual (d) | d on landed checks, exact / perceptual | ringer flagged, exact / perceptual | d over all faked tiles, exact / perceptual | checks that fail (crops, perceptual) |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const c of d.classes) {
    const name = c.cls.required ? c.cls.label : `${c.cls.label} (extra)`;
    const s = c.strips.wrong;
    const k = c.crops.wrong;
    const g2 = c.ringer.wrong;
    out.push(
      `| ${name} | ${frac(c.wrongInstances, c.instances)} | ${frac(s.exactFlags, s.n)} / ${frac(s.perceptualFlags, s.n)} | ${frac(k.hits, k.n)} | ${pct(k.rate('exact'))} | **${pct(k.rate('perceptual'))}** | ${pct(k.rateOnHits('exact'))} / ${pct(k.rateOnHits('perceptual'))} | ${frac(g2.exactFlags, g2.n)} / ${frac(g2.perceptualFlags, g2.n)} | ${pct(c.crops.all.rate('exact'))} / ${pct(c.crops.all.rate('perceptual'))} | ${k.topChecks() || '-'} |`,
    );
  }
  out.push('');
  const missNotes = d.classes
    .filter((c) => c.crops.wrong.perceptualFlags < c.crops.wrong.n)
    .map((c) => {
      const k = c.crops.wrong;
      const missed = k.n - k.perceptualFlags;
      const unchanged = k.n - k.differ;
      const visible = k.missesThatDiffer;
      const parts = [`${missed} of ${k.n} crop checks of changed tiles pass in perceptual mode`];
      if (unchanged > 0) {
        parts.push(
          `${unchanged} of them ${c.cls.group === 'partial' ? 'missed the patch or ' : ''}saw only pixels the cheat left right (e.g. the sky part of a tile; no check can flag those)`,
        );
      }
      if (visible > 0) {
        parts.push(
          `${visible} saw changed pixels that differ from the right ones by at most ${num(k.missMaxMeanDelta, 2)}/255 on average, within the noise that perceptual mode must tolerate between device classes (exact mode flags them)`,
        );
      }
      return `- ${c.cls.label}: ${parts.join('; ')}.`;
    });
  if (missNotes.length) out.push('Where crop checks pass a changed tile:', '', ...missNotes, '');
  out.push(...jobSection(r));
  return out;
}

function jobSection(r: VerificationBenchResults): string[] {
  const policy = policyFor('standard');
  const rates = (s: number) =>
    `c = ${num(checkRate(s, policy), 3)}, rho = ${num(ringerRate(s, policy), 3)}`;
  const ks = JOB_SIZES.map((n) => r.jobs.get('black')!.find((c) => c.tiles === n)!.fakedTiles);
  const out = [
    '### 1b. Per job: policy maths and Monte Carlo',
    '',
    `Standard policy: new node ${rates(0)}; trusted ${rates(TRUSTED_SCORE)}; score 1 ${rates(1)}`,
    `(c: crop-check rate per tile, rho: ringers per tile). K = ${pct(FAKED_SHARE, 0)} of N (${JOB_SIZES.map((n, i) => `${ks[i]} of ${n}`).join(', ')}).`,
    `Overlap coverage kappa = ${KAPPA} (the fraction of the node's tiles with a neighbour by another node;`,
    `the coordinator's lease order prefers different nodes for neighbours, which gives 1.0 with two or more`,
    `nodes; ${KAPPA} is the conservative figure of the library README). Each cell: the closed form`,
    '(`detectionProbability`, with kappa x the measured per-strip rate, the measured crop rate d and rho x',
    "the measured ringer rate) and, in brackets, a Monte Carlo of whole jobs built from the coordinator's own",
    'decisions (`shouldIssueRinger`, `shouldCheckTile`, `planCropCheck` on the demo grid, `fakedRegion`) in',
    'which a check that lands on faked pixels flags them with the measured probability',
    `(${JOB_SIZES.map((n) => `${trialsLabel(n)} jobs at N = ${n}`).join(', ')}).`,
    '',
  ];
  for (const mode of MODES) {
    out.push(
      `**${mode === 'exact' ? 'Exact mode** (same Blender build and device class)' : 'Perceptual mode** (between device classes)'}:`,
      '',
      '| cheat | target | new, N = 20 | new, N = 100 | new, N = 1000 | trusted, N = 20 | trusted, N = 100 | trusted, N = 1000 | score 1, N = 100 | met |',
      '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    );
    for (const c of r.detection.classes) {
      const cells = r.jobs.get(c.cls.id)!;
      const find = (s: number, n: number) => cells.find((y) => y.score === s && y.tiles === n)!;
      const at = (s: number, n: number) =>
        `${pct(find(s, n).closed[mode])} (${pct(find(s, n).monteCarlo[mode])})`;
      const value = (s: number, n: number) => find(s, n).closed[mode];
      let target = '-';
      let met = '-';
      if (c.cls.group === 'whole-tile' && c.cls.required) {
        target = '>= 99%, N = 100, any score';
        met = meets([0, TRUSTED_SCORE, 1].every((s) => value(s, 100) >= TARGETS.wholeTile));
      } else if (c.cls.id === 'margin-aware') {
        target = '>= 99% new';
        met = meets(
          value(0, 100) >= TARGETS.marginAwareNew && value(0, 1000) >= TARGETS.marginAwareNew,
        );
      } else if (c.cls.required) {
        target = 'report';
      }
      const name = c.cls.required ? c.cls.label : `${c.cls.label} (extra)`;
      out.push(
        `| ${name} | ${target} | ${at(0, 20)} | ${at(0, 100)} | ${at(0, 1000)} | ${at(TRUSTED_SCORE, 20)} | ${at(TRUSTED_SCORE, 100)} | ${at(TRUSTED_SCORE, 1000)} | ${at(1, 100)} | ${met} |`,
      );
    }
    out.push('');
  }
  out.push(
    'The tables above take kappa = ' +
      String(KAPPA) +
      ' and let a covered tile be caught by its overlaps only at the',
    'per-strip rate (one strip by another node). In the layout that was measured every suspect tile has',
    'neighbours by other nodes on all its interior edges (kappa = 1), and a changed tile is caught when any',
    'of its strips flags ("tiles caught by overlap" in 1a). The whole-tile classes in that setting',
    '(closed form):',
    '',
    '| cheat | tiles caught by overlap, exact / perceptual | mode | new, N = 20 | new, N = 100 | trusted, N = 20 | trusted, N = 100 | score 1, N = 20 | score 1, N = 100 | met (N = 100) |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  );
  for (const c of requiredWhole(r)) {
    const cells = r.jobs.get(c.cls.id)!;
    const o = c.overlapTiles.wrong;
    for (const mode of MODES) {
      const v = (s: number, n: number) =>
        cells.find((y) => y.score === s && y.tiles === n)!.closedCheckerboard[mode];
      const ok = [0, TRUSTED_SCORE, 1].every((s) => v(s, 100) >= TARGETS.wholeTile);
      out.push(
        `| ${mode === 'exact' ? c.cls.label : ''} | ${mode === 'exact' ? `${frac(o.exactFlags, o.n)} / ${frac(o.perceptualFlags, o.n)}` : ''} | ${mode} | ${pct(v(0, 20))} | ${pct(v(0, 100))} | ${pct(v(TRUSTED_SCORE, 20))} | ${pct(v(TRUSTED_SCORE, 100))} | ${pct(v(1, 20))} | ${pct(v(1, 100))} | ${meets(ok)} |`,
      );
    }
  }
  out.push('');
  const model = (id: string) => {
    const cells = r.jobs.get(id)!;
    const at = (s: number, n: number) =>
      pct(cells.find((y) => y.score === s && y.tiles === n)!.model);
    return `${at(0, 20)} | ${at(0, 100)} | ${at(0, 1000)} | ${at(TRUSTED_SCORE, 20)} | ${at(TRUSTED_SCORE, 100)} | ${at(TRUSTED_SCORE, 1000)} | ${at(1, 100)}`;
  };
  out.push(
    "For comparison, the library's model (`simulateJobDetection`: every check that lands on faked pixels",
    `flags them, whole-tile overlaps at kappa = ${KAPPA}):`,
    '',
    '| model | new, N = 20 | new, N = 100 | new, N = 1000 | trusted, N = 20 | trusted, N = 100 | trusted, N = 1000 | score 1, N = 100 |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    `| whole-tile | ${model('black')} |`,
    `| margin-aware | ${model('margin-aware')} |`,
    `| ${pct(PATCH_FRACTION, 0)} patch of the interior | ${model('painted')} |`,
    '',
  );
  out.push(...economicsSection(r));
  return out;
}

function trialsLabel(n: number): string {
  return trialsFor(n).toLocaleString('en-US');
}

function economicsSection(r: VerificationBenchResults): string[] {
  const e = DEFAULT_ECONOMICS;
  const out = [
    '### Expected value of cheating',
    '',
    `\`expectedValueOfCheating\` with the measured detection (closed form as above, perceptual-mode rates, the`,
    `weaker ones), in tile rewards: gain`,
    `${e.gainPerFakedTile} per faked tile (the whole render cost saved; a painted patch saves less), stake ${e.stake}, the node's N rewards`,
    `forfeited when caught, reputation value 0 (conservative). "Best K" is the cheater's best number of`,
    "faked tiles in 1..N with the measured rates; the last column is the library's `bestCheatingStrategy`",
    '(model rates, no overlap coverage) for comparison.',
    '',
    '| cheat | score | N | P(caught), K = 5% of N | EV at that K | best K | EV at best K | model: best K, EV |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const [id, rows] of r.economics) {
    const label = r.detection.classes.find((c) => c.cls.id === id)!.cls.label;
    for (const x of rows) {
      out.push(
        `| ${label} | ${scoreName(x.score)} | ${x.tiles} | ${pct(x.detection)} (K = ${x.fakedTiles}) | ${num(x.expectedValue)} | ${x.bestK} | ${num(x.bestExpectedValue)} | ${x.modelBestK}, ${num(x.modelBestExpectedValue)} |`,
      );
    }
  }
  out.push('');
  return out;
}

// ---------------------------------------------------------------- 2. honest

function honestSection(r: VerificationBenchResults): string[] {
  const same = [...r.detection.honest, ...r.honest.sameDevice];
  const cross = r.honest.crossKernel;
  const t = honestTotals(same);
  const k = honestTotals(cross);
  const out = [
    '## 2. False rejections of honest work',
    '',
    `Demo-like scene (above): its honest tiles, strips and crop re-renders. Small scene: ${SMALL_SCENE.width}x${SMALL_SCENE.height}, ${SMALL_SCENE.samples} samples,`,
    `frames ${HONEST_FRAMES.join(', ')}, full frames (2 threads) and three tile layouts with different borders and margins`,
    `(${LAYOUTS.map((l) => l.name).join('; ')}), tiles alternating between 1 and 2 threads in a checkerboard`,
    'shifted per layout, and one `planCropCheck` crop of every tile re-rendered with the other thread count.',
    'Every pair is compared in **both** modes (a comparison below = one pair, compared twice).',
    '',
    '| comparisons | what | n | bit-identical | rejected, exact | rejected, perceptual |',
    '| --- | --- | --- | --- | --- | --- |',
  ];
  for (const x of same) {
    out.push(
      `| ${x.label} | ${x.what} | ${x.n} | ${x.identical} | ${x.exactRejections} | ${x.perceptualRejections} |`,
    );
  }
  out.push(
    `| **total** | | **${t.n}** | ${t.identical} | **${t.exact}** | **${t.perceptual}** |`,
    '',
    'On one device class honest renders are bit-identical, so the perceptual mode is hardly tested by',
    'them. Against the **SSE4.1 kernel** (Cycles on the same CPU with another instruction set: same seed,',
    'slightly different pixels, the nearest thing to another device class on this machine) only the',
    'perceptual mode applies (`chooseMode` picks it when device classes differ):',
    '',
    '| comparisons | what | n | bit-identical | rejected, perceptual |',
    '| --- | --- | --- | --- | --- |',
  );
  for (const x of cross) {
    out.push(`| ${x.label} | ${x.what} | ${x.n} | ${x.identical} | ${x.perceptualRejections} |`);
  }
  out.push(`| **total** | | **${k.n}** | ${k.identical} | **${k.perceptual}** |`, '');
  const worst = (ts: HonestTally[], m: (typeof METRICS)[number]) =>
    Math.max(...ts.map((x) => x.worst[m]));
  out.push(
    'Largest perceptual metric over all honest comparisons, against its tolerance (`DEFAULT_TOLERANCES`;',
    'noise ratios either way):',
    '',
    `| | ${METRICS.join(' | ')} | largest channel difference |`,
    `| --- | ${METRICS.map(() => '---').join(' | ')} | --- |`,
    `| same device | ${METRICS.map((m) => fmtMetric(m, worst(same, m))).join(' | ')} | ${Math.max(...same.map((x) => x.maxDelta))}/255 |`,
    `| SSE4.1 kernel | ${METRICS.map((m) => fmtMetric(m, worst(cross, m))).join(' | ')} | ${Math.max(...cross.map((x) => x.maxDelta))}/255 |`,
    `| tolerance | ${METRICS.map((m) => fmtMetric(m, TOLERANCE[m])).join(' | ')} | |`,
    '',
  );
  const rejected = [...same, ...cross].flatMap((x) => x.rejected);
  if (rejected.length) {
    out.push('Rejected honest comparisons:', '', ...rejected.slice(0, 20).map((x) => `- ${x}`), '');
  }
  return out;
}

function fmtMetric(m: (typeof METRICS)[number], v: number): string {
  if (m === 'pixelmatch' || m === 'strongDelta' || m === 'blockStrongDelta') return pct(v, 2);
  if (m === 'blockMean') return num(v, 2);
  return num(v, 3);
}

// ---------------------------------------------------------------- 3. cost

function costSection(r: VerificationBenchResults): string[] {
  const out = [
    '## 3. Cost of verification',
    '',
    'Extra rendered pixels per useful (core) pixel under the standard policy. "Formula" is',
    '`verificationCost`: crops (c x crop area) + ringers (rho x a whole tile) + arbitration (1% of',
    `comparisons re-rendered by a third node). "Simulated" replays the coordinator's decisions`,
    `(\`shouldCheckTile\`, \`planCropCheck\`, \`shouldIssueRinger\`) over ${SIMULATED_TILES.toLocaleString('en-US')} tiles and counts crop and ringer`,
    'pixels; arbitration there is 0, the false-rejection rate measured in 2. Overlap margins are',
    'rendered by both neighbours whatever the policy and are shown apart.',
    '',
    '| grid | node | c | rho | crops | ringers | arbitration | **verification (formula)** | simulated | target | met | overlap margins |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const c of r.cost) {
    const f = c.formula;
    const target = c.score === 0 ? TARGETS.costNew : TARGETS.costTrusted;
    out.push(
      `| ${c.grid} | ${scoreName(c.score)} | ${num(f.checkRate, 3)} | ${num(f.ringerRate, 3)} | ${pct(f.cropPixels / f.usefulPixels)} | ${pct(f.ringerPixels / f.usefulPixels)} | ${pct(f.arbitrationPixels / f.usefulPixels, 2)} | **${pct(f.verificationRatio)}** | ${pct(c.simulated)} | <= ${pct(target, 0)} | ${meets(f.verificationRatio <= target)} | ${pct(f.overlapRatio)} |`,
    );
  }
  const t = r.detection.timing;
  const newT = timeCost(0, t);
  const trustedT = timeCost(TRUSTED_SCORE, t);
  out.push(
    '',
    `In render time (demo-like scene, this run): a tile (${Math.round(t.tilePixels)} px, margins included, 2 threads) took`,
    `${num(t.tileMs, 0)} ms and a crop (${Math.round(t.cropPixels)} px) ${num(t.cropMs, 0)} ms through the tile worker (wall time, so the per-render`,
    `overhead counts). Crops and ringers then cost ${pct(newT.ratio)} of the work's render time for a new node and`,
    `${pct(trustedT.ratio)} for a trusted one (c x crop time + rho x tile time, per tile time).`,
    '',
  );
  return out;
}

// ---------------------------------------------------------------- 4. speed

function speedSection(r: VerificationBenchResults): string[] {
  const s = r.speed;
  const sp = speedRatios(s);
  const mp = (s.width * s.height) / 1e6;
  const out = [
    '## 4. Speed of the comparison',
    '',
    `The ${s.width}x${s.height} frame (${num(mp, 3)} MP, ${DEMO_SCENE.samples} samples) rendered in ${s.renderMsAll.map((x) => num(x, 0)).join(', ')} ms`,
    `(Blender's render call, ${s.renderMsAll.length} frames, through the tile worker with 2 threads; the fastest is used):`,
    `**${num(sp.renderPerMp, 0)} ms/MP**. Decoding and comparing, median (fastest) of ${SPEED_RUNS} runs after 2 warm-ups:`,
    '',
    '| step | ms | ms/MP | verdict |',
    '| --- | --- | --- | --- |',
    `| \`decodePng\`, one ${s.width}x${s.height} PNG as Blender wrote it | ${num(s.decode.medianMs)} (${num(s.decode.minMs)}) | ${num(perMp(s.decode))} | |`,
  ];
  for (const mode of ['exact', 'perceptual'] as const) {
    for (const t of s.compare[mode]) {
      out.push(
        `| \`compareRenders\` ${mode}, ${t.label} | ${num(t.medianMs, 2)} (${num(t.minMs, 2)}) | ${num(perMp(t))} | ${t.verdict ?? ''} |`,
      );
    }
  }
  out.push(
    '',
    `Decoding both images plus the slowest comparison of the mode, per MP, against the render time of the`,
    `same pixels (median times against the fastest render): **exact ${pct(sp.exact, 2)}**, **perceptual ${pct(sp.perceptual, 2)}**`,
    `(target <= ${pct(TARGETS.speed, 0)}); fastest against fastest: exact ${pct(sp.fastestExact, 2)}, perceptual ${pct(sp.fastestPerceptual, 2)}. Other`,
    'work shared the two cores during the run (see the load average above), which spreads the timings;',
    'the secret-crop checks themselves compare a few thousand pixels each (section 1a).',
    '',
  );
  return out;
}

// ---------------------------------------------------------------- notes

function notesSection(r: VerificationBenchResults): string[] {
  const out = ['## What misses a target, and why', ''];
  const whole = requiredWhole(r);
  const we = lowestWhole(r, 'exact');
  const wp = lowestWhole(r, 'perceptual');
  const model = cell(r, 'black', 1, 100).model;
  const modelTrusted = cell(r, 'black', TRUSTED_SCORE, 100).model;
  if (we.value < TARGETS.wholeTile) {
    const strips = whole.map((c) => c.strips.wrong);
    const flagged = strips.reduce((s, t) => s + t.exactFlags, 0);
    const n = strips.reduce((s, t) => s + t.n, 0);
    out.push(
      `- **Whole-tile fakes at kappa = ${KAPPA}, exact mode** (lowest ${pct(we.value, 2)}: ${we.label}, score ${we.score}). With one`,
      '  cross-checked strip per covered tile, a wrong tile escapes the overlap check whenever that strip is',
      `  one the cheat left right: exact mode flags ${frac(flagged, n)} strips of the changed tiles; the others lie in`,
      '  the flat sky. The overlaps then catch a faked tile with probability',
      `  ${KAPPA} x that rate instead of ${KAPPA}, and at the trusted and full-trust crop rates (c = 0.078 and 0.020) K = 5`,
      `  faked tiles are caught in ${pct(cell(r, we.id, TRUSTED_SCORE, 100).closed.exact)} and ${pct(we.value)} of jobs, against ${pct(modelTrusted)} and ${pct(model)} in the library's model, which`,
      '  assumes every cross-checked strip shows the fake. With every interior edge cross-checked (kappa = 1,',
      '  the measured checkerboard, which the lease preference produces with two or more nodes) the',
      `  lowest is ${pct(lowestWhole(r, 'exact', true).value, 2)} in exact mode. The README's "kappa >= 0.594 is enough"`,
      '  holds only when the covered strips show the fake.',
    );
  }
  if (wp.value < TARGETS.wholeTile) {
    const noisy = whole.filter((c) => c.crops.wrong.missesThatDiffer > 0);
    const maxDelta = Math.max(0, ...noisy.map((c) => c.crops.wrong.missMaxMeanDelta));
    out.push(
      `- **Whole-tile fakes at kappa = ${KAPPA}, perceptual mode** (lowest ${pct(wp.value, 2)}: ${wp.label}, score ${wp.score}). On top of`,
      `  the above, some fakes (${noisy.map((c) => c.cls.label).join('; ')}) change parts of a tile (far ground, the slowly`,
      `  moving camera) by at most ${num(maxDelta, 2)}/255 on average: inside what perceptual mode must accept between device`,
      `  classes (the honest SSE4.1 renders of section 2 differ by up to ${Math.max(...r.honest.crossKernel.map((x) => x.maxDelta))}/255 on single pixels), so crops,`,
      `  strips and ringers over those parts pass; exact mode flags ${exactAll(whole)}. At`,
      `  kappa = 1 the lowest per-job figure in perceptual mode is ${pct(lowestWhole(r, 'perceptual', true).value, 2)}.`,
    );
  }
  out.push(
    `- **Trusted nodes and margin-aware fakes**: ${pct(cell(r, 'margin-aware', TRUSTED_SCORE, 100).closed.perceptual)} of jobs (N = 100) by design: the check rate of a`,
    '  trusted node is low (cost <= 5%), and the stake is what keeps cheating unprofitable: the highest EV',
    `  in the table is ${highestEv(r)}.`,
    `- **10% patch**: a crop lands on the patch in ${pct(r.detection.classes.find((c) => c.cls.id === 'painted')!.crops.wrong.hits / r.detection.classes.find((c) => c.cls.id === 'painted')!.crops.wrong.n)} of checks and is then flagged`,
    `  (${pct(r.detection.classes.find((c) => c.cls.id === 'painted')!.crops.wrong.rateOnHits('perceptual'))} in perceptual mode); a new node faking 5 of 100 tiles this way is caught in`,
    `  ${pct(cell(r, 'painted', 0, 100).closed.perceptual)} of jobs, a trusted one in ${pct(cell(r, 'painted', TRUSTED_SCORE, 100).closed.perceptual)}; it saves a tenth of the render cost, so its EV is lower still than the`,
    '  table shows (which counts a full tile of gain).',
    `- **One faked tile (N = 20, K = 1)** is below 99% for every class at kappa = ${KAPPA}: the policy is sized for K = 5`,
    '  (`referenceFakedTiles`); the stake, not the detection rate, is what makes a single fake unprofitable.',
    '- **The scene**: the test scene has flat-coloured objects, no textures and a flat sky; the per-check',
    '  rates above are measured on it only. Textured or noisier scenes leave a cheat fewer regions where',
    '  a wrong render happens to match the right one.',
    '',
  );
  return out;
}

function highestEv(r: VerificationBenchResults): string {
  let best: { ev: number; where: string } = { ev: -Infinity, where: '' };
  for (const [id, rows] of r.economics) {
    const label = r.detection.classes.find((c) => c.cls.id === id)!.cls.label;
    for (const x of rows) {
      if (x.bestExpectedValue > best.ev) {
        best = {
          ev: x.bestExpectedValue,
          where: `${label}, score ${x.score}, N = ${x.tiles}, K = ${x.bestK}`,
        };
      }
    }
  }
  return `${num(best.ev)} tile rewards (${best.where})`;
}

function exactAll(classes: ClassResult[]): string {
  const k = classes.map((c) => c.crops.wrong).filter((t) => t.missesThatDiffer > 0);
  const caught = k.reduce((s, t) => s + t.exactFlags, 0);
  const n = k.reduce((s, t) => s + t.n, 0);
  return caught === n ? 'all of those crop checks' : `${frac(caught, n)} of those crop checks`;
}
