// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

/// @title Tessera render-farm escrow (native ETH)
/// @notice Requesters fund jobs, node operators stake, the coordinator settles accepted work in
/// batches and slashes stake on fraud verdicts. Every payout is a pull payment: state-changing
/// functions only credit `balanceOf`, and `withdraw` is the one place that sends ETH.
///
/// Slashed stake compensates the job's requester; when the job has no requester (a slash for a job
/// that was never funded here) it goes to the treasury.
///
/// Pause stops new money and payout decisions (fund, stake, settle, slash) but never exits:
/// withdraw, requestUnstake, completeUnstake, reclaim and closeJob (which only refunds the
/// requester) keep working, so a paused escrow can always be emptied by the people whose money it
/// holds.
///
/// Gas: the reentrancy guard lives in transient storage (EIP-1153, cancun), a job packs into two
/// slots, and settled batch ids are bits of a per-job bitmap, so consecutive batches of one job
/// share storage words. See bench/PAYOUTS.md.
contract TesseraEscrow is AccessControl, Pausable, ReentrancyGuardTransient {
    bytes32 public constant COORDINATOR_ROLE = keccak256("COORDINATOR_ROLE");

    struct Job {
        address requester;
        uint64 fundedAt;
        bool closed;
        // uint128 wei is ~3.4e20 ETH, far beyond the supply; two amounts share one slot.
        uint128 budget;
        uint128 spent;
    }

    struct PendingUnstake {
        uint256 amount;
        uint64 readyAt;
    }

    mapping(bytes32 => Job) private _jobs;
    /// jobId => word index (batchId / 256) => one bit per settled batchId.
    mapping(bytes32 => mapping(uint256 => uint256)) private _settledBatches;
    mapping(bytes32 => bool) private _slashApplied;
    mapping(address => uint256) private _stakes;
    mapping(address => PendingUnstake) private _pending;
    mapping(address => uint256) private _balances;

    address public treasury;
    uint64 public immutable unstakeDelay;
    uint64 public immutable jobTimeout;

    event JobFunded(bytes32 indexed jobId, address indexed requester, uint256 amount, uint256 budget);
    event BatchSettled(bytes32 indexed jobId, uint256 indexed batchId, uint256 total);
    event Credited(bytes32 indexed jobId, address indexed payee, uint256 amount);
    event Slashed(bytes32 indexed jobId, address indexed operator, uint256 requested, uint256 taken, bytes32 slashId);
    event JobClosed(bytes32 indexed jobId, uint256 refund);
    event Staked(address indexed operator, uint256 amount, uint256 stake);
    event UnstakeRequested(address indexed operator, uint256 amount, uint64 readyAt);
    event Unstaked(address indexed operator, uint256 amount);
    event Withdrawn(address indexed account, uint256 amount);
    event TreasuryChanged(address indexed previousTreasury, address indexed newTreasury);

    error ZeroAddress();
    error ZeroAmount();
    error AmountTooLarge(uint256 amount);
    error UnknownJob(bytes32 jobId);
    error JobIsClosed(bytes32 jobId);
    error NotRequester(bytes32 jobId, address caller);
    error BatchAlreadySettled(bytes32 jobId, uint256 batchId);
    error BudgetExceeded(bytes32 jobId, uint256 requested, uint256 available);
    error LengthMismatch(uint256 payees, uint256 amounts);
    error EmptyBatch();
    error SlashAlreadyApplied(bytes32 slashId);
    error InsufficientStake(uint256 requested, uint256 available);
    error NoPendingUnstake();
    error UnstakeNotReady(uint64 readyAt);
    error TimeoutNotReached(uint64 reclaimableAt);
    error NotCoordinator(address account);
    error NothingToWithdraw();
    error TransferFailed(address account, uint256 amount);

    constructor(address admin, address coordinator, address treasury_, uint64 unstakeDelay_, uint64 jobTimeout_) {
        if (admin == address(0) || coordinator == address(0) || treasury_ == address(0)) revert ZeroAddress();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(COORDINATOR_ROLE, coordinator);
        treasury = treasury_;
        unstakeDelay = unstakeDelay_;
        jobTimeout = jobTimeout_;
        emit TreasuryChanged(address(0), treasury_);
    }

    // ------------------------------------------------------------------ admin

    /// @notice Replaces one coordinator key with another in one transaction (grantRole/revokeRole
    /// also work, e.g. to run two coordinators during a rotation).
    function rotateCoordinator(address oldCoordinator, address newCoordinator) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (newCoordinator == address(0)) revert ZeroAddress();
        if (!hasRole(COORDINATOR_ROLE, oldCoordinator)) revert NotCoordinator(oldCoordinator);
        _revokeRole(COORDINATOR_ROLE, oldCoordinator);
        _grantRole(COORDINATOR_ROLE, newCoordinator);
    }

    function setTreasury(address newTreasury) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (newTreasury == address(0)) revert ZeroAddress();
        emit TreasuryChanged(treasury, newTreasury);
        treasury = newTreasury;
    }

    function pause() external onlyRole(DEFAULT_ADMIN_ROLE) {
        _pause();
    }

    function unpause() external onlyRole(DEFAULT_ADMIN_ROLE) {
        _unpause();
    }

    // ------------------------------------------------------------------ requesters

    /// @notice Adds msg.value to a job's budget. The first funder becomes the job's requester;
    /// only that address may add more later.
    function fund(bytes32 jobId) external payable whenNotPaused {
        if (msg.value == 0) revert ZeroAmount();
        Job storage job = _jobs[jobId];
        if (job.closed) revert JobIsClosed(jobId);
        if (job.requester == address(0)) {
            job.requester = msg.sender;
            job.fundedAt = uint64(block.timestamp);
        } else if (job.requester != msg.sender) {
            revert NotRequester(jobId, msg.sender);
        }
        uint256 budget = uint256(job.budget) + msg.value;
        if (budget > type(uint128).max) revert AmountTooLarge(budget);
        job.budget = uint128(budget);
        emit JobFunded(jobId, msg.sender, msg.value, budget);
    }

    /// @notice The requester's safety valve: once fundedAt + jobTimeout has passed and the
    /// coordinator has not closed the job, the requester closes it (same effect as closeJob).
    function reclaim(bytes32 jobId) external nonReentrant {
        Job storage job = _jobs[jobId];
        if (job.requester == address(0)) revert UnknownJob(jobId);
        if (job.requester != msg.sender) revert NotRequester(jobId, msg.sender);
        uint64 reclaimableAt = job.fundedAt + jobTimeout;
        if (block.timestamp < reclaimableAt) revert TimeoutNotReached(reclaimableAt);
        _close(jobId, job);
    }

    // ------------------------------------------------------------------ operators

    function stake() external payable whenNotPaused {
        if (msg.value == 0) revert ZeroAmount();
        uint256 total = _stakes[msg.sender] + msg.value;
        _stakes[msg.sender] = total;
        emit Staked(msg.sender, msg.value, total);
    }

    /// @notice Moves stake to pending and (re)starts the delay; pending stake can still be slashed.
    function requestUnstake(uint256 amount) external {
        if (amount == 0) revert ZeroAmount();
        uint256 staked = _stakes[msg.sender];
        if (amount > staked) revert InsufficientStake(amount, staked);
        _stakes[msg.sender] = staked - amount;
        PendingUnstake storage pending = _pending[msg.sender];
        pending.amount += amount;
        // A new request restarts the delay for everything pending, so stake cannot skip it.
        uint64 readyAt = uint64(block.timestamp) + unstakeDelay;
        pending.readyAt = readyAt;
        emit UnstakeRequested(msg.sender, amount, readyAt);
    }

    /// @notice After the delay, moves all pending stake to the withdrawable balance.
    function completeUnstake() external nonReentrant {
        PendingUnstake storage pending = _pending[msg.sender];
        uint256 amount = pending.amount;
        if (amount == 0) revert NoPendingUnstake();
        if (block.timestamp < pending.readyAt) revert UnstakeNotReady(pending.readyAt);
        delete _pending[msg.sender];
        _balances[msg.sender] += amount;
        emit Unstaked(msg.sender, amount);
    }

    // ------------------------------------------------------------------ coordinator

    /// @notice Credits one batch of accepted work. The coordinator aggregates a batch's tiles per
    /// payee, so each payee appears once. A batchId settles at most once per job.
    function settle(bytes32 jobId, uint256 batchId, address[] calldata payees, uint256[] calldata amounts)
        external
        onlyRole(COORDINATOR_ROLE)
        whenNotPaused
        nonReentrant
    {
        uint256 count = payees.length;
        if (count != amounts.length) revert LengthMismatch(count, amounts.length);
        if (count == 0) revert EmptyBatch();
        Job storage job = _jobs[jobId];
        if (job.requester == address(0)) revert UnknownJob(jobId);
        if (job.closed) revert JobIsClosed(jobId);
        _markSettled(jobId, batchId);

        uint256 total;
        for (uint256 i; i < count; ++i) {
            total += amounts[i];
        }
        uint256 available = job.budget - job.spent;
        if (total > available) revert BudgetExceeded(jobId, total, available);
        job.spent += uint128(total); // total <= available < 2^128

        for (uint256 i; i < count; ++i) {
            address payee = payees[i];
            if (payee == address(0)) revert ZeroAddress();
            _balances[payee] += amounts[i];
            emit Credited(jobId, payee, amounts[i]);
        }
        emit BatchSettled(jobId, batchId, total);
    }

    /// @notice Applies a fraud verdict: takes min(amount, stake + pending unstake) from the operator
    /// and credits it to the job's requester (or the treasury when the job has none).
    function slash(bytes32 jobId, address operator, uint256 amount, bytes32 slashId)
        external
        onlyRole(COORDINATOR_ROLE)
        whenNotPaused
        nonReentrant
    {
        if (amount == 0) revert ZeroAmount();
        if (_slashApplied[slashId]) revert SlashAlreadyApplied(slashId);
        _slashApplied[slashId] = true;

        uint256 staked = _stakes[operator];
        uint256 fromStake = amount < staked ? amount : staked;
        uint256 rest = amount - fromStake;
        uint256 pendingAmount = _pending[operator].amount;
        uint256 fromPending = rest < pendingAmount ? rest : pendingAmount;
        uint256 taken = fromStake + fromPending;

        if (fromStake != 0) _stakes[operator] = staked - fromStake;
        if (fromPending != 0) _pending[operator].amount = pendingAmount - fromPending;
        if (taken != 0) {
            address requester = _jobs[jobId].requester;
            _balances[requester == address(0) ? treasury : requester] += taken;
        }
        emit Slashed(jobId, operator, amount, taken, slashId);
    }

    /// @notice Ends a job (finished or cancelled): the unspent budget goes back to the requester.
    function closeJob(bytes32 jobId) external onlyRole(COORDINATOR_ROLE) nonReentrant {
        Job storage job = _jobs[jobId];
        if (job.requester == address(0)) revert UnknownJob(jobId);
        _close(jobId, job);
    }

    // ------------------------------------------------------------------ everyone

    /// @notice Pays the caller's whole withdrawable balance (checks, effects, then the transfer).
    function withdraw() external nonReentrant {
        uint256 amount = _balances[msg.sender];
        if (amount == 0) revert NothingToWithdraw();
        _balances[msg.sender] = 0;
        emit Withdrawn(msg.sender, amount);
        (bool ok, ) = payable(msg.sender).call{value: amount}("");
        if (!ok) revert TransferFailed(msg.sender, amount);
    }

    // ------------------------------------------------------------------ views

    /// @notice The job's state (the unspent budget is budget - spent until it is closed).
    function jobs(bytes32 jobId)
        external
        view
        returns (address requester, uint256 budget, uint256 spent, uint64 fundedAt, bool closed)
    {
        Job storage job = _jobs[jobId];
        return (job.requester, job.budget, job.spent, job.fundedAt, job.closed);
    }

    function isSettled(bytes32 jobId, uint256 batchId) external view returns (bool) {
        return _settledBatches[jobId][batchId >> 8] & (1 << (batchId & 0xff)) != 0;
    }

    function isSlashApplied(bytes32 slashId) external view returns (bool) {
        return _slashApplied[slashId];
    }

    function stakeOf(address operator) external view returns (uint256) {
        return _stakes[operator];
    }

    function pendingUnstakeOf(address operator) external view returns (uint256) {
        return _pending[operator].amount;
    }

    function unstakeReadyAt(address operator) external view returns (uint64) {
        return _pending[operator].readyAt;
    }

    /// @notice What `account` can withdraw now.
    function balanceOf(address account) external view returns (uint256) {
        return _balances[account];
    }

    // ------------------------------------------------------------------ internals

    function _markSettled(bytes32 jobId, uint256 batchId) private {
        mapping(uint256 => uint256) storage words = _settledBatches[jobId];
        uint256 bit = 1 << (batchId & 0xff);
        uint256 flags = words[batchId >> 8];
        if (flags & bit != 0) revert BatchAlreadySettled(jobId, batchId);
        words[batchId >> 8] = flags | bit;
    }

    function _close(bytes32 jobId, Job storage job) private {
        if (job.closed) revert JobIsClosed(jobId);
        job.closed = true;
        uint256 refund = job.budget - job.spent;
        if (refund != 0) _balances[job.requester] += refund;
        emit JobClosed(jobId, refund);
    }
}
