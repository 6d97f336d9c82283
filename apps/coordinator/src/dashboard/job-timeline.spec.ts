import { jobTimeline, TimelineFacts } from './job-timeline';

const t = (s: number) => new Date(Date.UTC(2025, 0, 1, 12, 0, s));

function facts(over: Partial<TimelineFacts> = {}): TimelineFacts {
  return {
    job: { createdAt: t(0), plannedAt: t(1), completedAt: null, status: 'RENDERING' },
    frames: [],
    verdicts: [],
    payouts: [],
    ...over,
  };
}

describe('jobTimeline', () => {
  it('has one leased, verified and assembled entry per frame, in time order', () => {
    const entries = jobTimeline(
      facts({
        job: { createdAt: t(0), plannedAt: t(1), completedAt: t(30), status: 'COMPLETED' },
        frames: [
          {
            frame: 1,
            tiles: 4,
            verified: 4,
            firstLeasedAt: t(2),
            lastVerifiedAt: t(10),
            completedAt: t(11),
          },
          {
            frame: 2,
            tiles: 4,
            verified: 2,
            firstLeasedAt: t(3),
            lastVerifiedAt: t(12),
            completedAt: null,
          },
          {
            frame: 3,
            tiles: 4,
            verified: 0,
            firstLeasedAt: null,
            lastVerifiedAt: null,
            completedAt: null,
          },
        ],
      }),
    );
    expect(entries.map((e) => [e.key, e.text])).toEqual([
      ['submitted', 'job submitted'],
      ['planned', 'planned: 3 frames, 12 tiles'],
      ['leased:1', 'first tile leased'],
      ['leased:2', 'first tile leased'],
      ['verified:1', '4/4 tiles verified'],
      ['assembled:1', 'frame assembled'],
      ['verified:2', '2/4 tiles verified'],
      ['finished', 'job completed'],
    ]);
    expect(entries.find((e) => e.key === 'leased:2')).toMatchObject({ kind: 'leased', frame: 2 });
  });

  it('names verdicts by what they mean and keys them by their results', () => {
    const entries = jobTimeline(
      facts({
        verdicts: [
          {
            kind: 'OVERLAP',
            outcome: 'FAIL',
            frameNumber: 1,
            resultA: 'a',
            resultB: 'b',
            createdAt: t(5),
          },
          {
            kind: 'ARBITRATION',
            outcome: 'PASS',
            frameNumber: 1,
            resultA: 'a',
            resultB: 'b',
            createdAt: t(6),
          },
          {
            kind: 'FRAUD',
            outcome: 'FAIL',
            frameNumber: 1,
            resultA: 'b',
            resultB: null,
            createdAt: t(7),
          },
        ],
      }),
    );
    expect(entries.slice(2).map((e) => [e.kind, e.key, e.text])).toEqual([
      ['mismatch', 'verdict:OVERLAP:1:a,b', 'overlap fail'],
      ['arbitration', 'verdict:ARBITRATION:1:a,b', 'arbitration pass'],
      ['convicted', 'verdict:FRAUD:1:b', 'fraud fail'],
    ]);
  });

  it('shows settlements, slashes and refunds as paid, with the transaction hash', () => {
    const entries = jobTimeline(
      facts({
        payouts: [
          {
            kind: 'SETTLED',
            nodeId: 'node-aaaa-1111',
            amountWei: '300',
            txHash: '0xabc',
            createdAt: t(40),
          },
          {
            kind: 'SLASHED',
            nodeId: 'node-bbbb-2222',
            amountWei: '50',
            txHash: '0xdef',
            createdAt: t(40),
          },
          { kind: 'REFUNDED', nodeId: null, amountWei: '700', txHash: null, createdAt: t(41) },
        ],
      }),
    );
    expect(entries.filter((e) => e.kind === 'paid')).toEqual([
      {
        at: t(40),
        kind: 'paid',
        key: 'paid:settled:node-aaaa-1111:300',
        text: 'settled 300 wei to node node-aaa',
        txHash: '0xabc',
      },
      {
        at: t(40),
        kind: 'paid',
        key: 'paid:slashed:node-bbbb-2222:50',
        text: 'slashed 50 wei from node node-bbb',
        txHash: '0xdef',
      },
      {
        at: t(41),
        kind: 'paid',
        key: 'paid:refunded:-:700',
        text: 'refunded 700 wei to the requester',
      },
    ]);
  });
});
