"""Which failed CUDA calls leave a device unusable, from the CUDA error code torch attaches.

torch raises ``torch.AcceleratorError`` for every failed CUDA call and sets its ``error_code`` to the
``cudaError_t`` value. Only some of them are "sticky" (CUDA's documentation: the process must be
restarted before the device can be used again); the others fail one call and leave the device working.
Nothing here imports torch, so that the classification is tested without a GPU.
"""

from __future__ import annotations

# Sticky errors: every later CUDA call in the process fails with the same error.
STICKY: dict[int, str] = {
    700: "cudaErrorIllegalAddress",
    702: "cudaErrorLaunchTimeout",
    710: "cudaErrorAssert",
    714: "cudaErrorHardwareStackError",
    715: "cudaErrorIllegalInstruction",
    716: "cudaErrorMisalignedAddress",
    717: "cudaErrorInvalidAddressSpace",
    718: "cudaErrorInvalidPc",
    719: "cudaErrorLaunchFailure",
}
# Errors of one call: the device goes on working. 2 is a failed host (pinned) or driver allocation.
RECOVERABLE: dict[int, str] = {
    1: "cudaErrorInvalidValue",
    2: "cudaErrorMemoryAllocation",
    9: "cudaErrorInvalidConfiguration",
    98: "cudaErrorInvalidDeviceFunction",
    209: "cudaErrorNoKernelImageForDevice",
    222: "cudaErrorUnsupportedPtxVersion",
    701: "cudaErrorLaunchOutOfResources",
    720: "cudaErrorCooperativeLaunchTooLarge",
    801: "cudaErrorNotSupported",
}
# Without a code (older torch, or a RuntimeError): these words in the message mean a sticky error.
STICKY_WORDS = (
    "device-side assert",
    "illegal memory access",
    "illegal address",
    "unspecified launch failure",
    "misaligned address",
    "illegal instruction",
)

UNUSABLE = "device-unusable"
OUT_OF_MEMORY = "out-of-memory"
RETEST = "retest"  # unknown: run a tiny kernel on the device, and call it unusable if that fails


def error_code(exc: BaseException) -> int | None:
    """The CUDA error code torch attached to ``exc`` (``error_code``), or None."""
    code = getattr(exc, "error_code", None)
    return code if isinstance(code, int) and not isinstance(code, bool) else None


def code_text(code: int) -> str:
    """'CUDA error 700 (cudaErrorIllegalAddress)': how fault messages name a code."""
    name = STICKY.get(code) or RECOVERABLE.get(code)
    return f"CUDA error {code}" + (f" ({name})" if name else "")


def classify_accelerator_error(type_name: str, code: int | None, message: str) -> str | None:
    """The fault kind of a torch error: UNUSABLE, OUT_OF_MEMORY, RETEST, or None (an ordinary failure).

    ``type_name`` is ``AcceleratorError`` (which carries the code) or ``RuntimeError`` for any other
    RuntimeError (torch before 2.8 raised those, judged by their message alone).
    """
    sticky_words = any(word in message.lower() for word in STICKY_WORDS)
    if type_name != "AcceleratorError":
        return UNUSABLE if type_name == "RuntimeError" and sticky_words else None
    if code in STICKY:
        return UNUSABLE
    if code == 2:
        return OUT_OF_MEMORY
    if code in RECOVERABLE:
        return None
    return UNUSABLE if sticky_words else RETEST
