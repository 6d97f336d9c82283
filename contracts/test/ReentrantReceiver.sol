// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @notice Test-only attacker: a contract account that uses the escrow through exec() and, when the
/// escrow pays it, re-enters the escrow once with prepared calldata (or refuses the payment). It
/// records what it received and how the re-entry ended, so tests can assert on both.
contract ReentrantReceiver {
    address public immutable escrow;
    bytes public reentryCall;
    bool public rejectPayments;
    uint256 public receivedCount;
    uint256 public receivedTotal;
    bool public reentryAttempted;
    bool public reentrySucceeded;
    bytes public reentryRevertData;

    constructor(address escrow_) {
        escrow = escrow_;
    }

    function setReentry(bytes calldata data) external {
        reentryCall = data;
        reentryAttempted = false;
    }

    function setRejectPayments(bool reject) external {
        rejectPayments = reject;
    }

    /// @notice Calls the escrow as this contract, bubbling up its revert.
    function exec(bytes calldata data) external payable returns (bytes memory) {
        (bool ok, bytes memory ret) = escrow.call{value: msg.value}(data);
        if (!ok) {
            assembly {
                revert(add(ret, 32), mload(ret))
            }
        }
        return ret;
    }

    receive() external payable {
        if (rejectPayments) revert("payments refused");
        receivedCount += 1;
        receivedTotal += msg.value;
        if (reentryCall.length != 0 && !reentryAttempted) {
            reentryAttempted = true;
            (bool ok, bytes memory ret) = escrow.call(reentryCall);
            reentrySucceeded = ok;
            reentryRevertData = ret;
        }
    }
}
