"""Version, info(), the exception hierarchy and the array checks every binding shares."""
import numpy as np
import pytest

import mpengine
from mpengine import _mpengine


def test_version_and_info():
    assert mpengine.__version__ == mpengine.info()["version"]
    assert mpengine.__version__.count(".") == 2
    info = mpengine.info()
    assert info["build"]["version"] == mpengine.__version__
    assert info["devices"][0]["device"] == "cpu"
    assert info["default_device"] in {d["device"] for d in info["devices"]}
    assert info["build"]["cuda"] == mpengine.cuda_built()


@pytest.mark.parametrize("code", _mpengine._error_code_names())
def test_every_error_code_has_its_class_and_message(code):
    cls = mpengine.errors.BY_CODE[code]
    with pytest.raises(cls) as e:
        _mpengine._raise_error(code, "the message, intact")
    assert isinstance(e.value, mpengine.Error)
    assert str(e.value) == f"{code}: the message, intact"
    assert e.value.code == code


def test_bad_input_errors_are_value_errors():
    for code in ("invalid_argument", "shape_mismatch", "dtype_mismatch", "invalid_graph",
                 "parse_error", "device_mismatch"):
        assert issubclass(mpengine.errors.BY_CODE[code], ValueError)
    assert issubclass(mpengine.FileError, OSError)


def test_wrong_dtype_layout_or_kind_is_a_type_error_naming_the_argument():
    g = mpengine.Csr(np.array([0, 1, 2], np.int64), np.array([1, 0], np.int32))
    x64 = np.ones((2, 3))
    with pytest.raises(TypeError, match="argument 'x'.*float32.*float64"):
        mpengine.csr_aggregate(g, x64)
    strided = np.ones((2, 6), np.float32)[:, ::2]
    with pytest.raises(TypeError, match="argument 'x'.*C-contiguous"):
        mpengine.csr_aggregate(g, strided)
    with pytest.raises(TypeError, match="argument 'x'.*needs an array"):
        mpengine.csr_aggregate(g, "not an array")
    with pytest.raises(TypeError, match="argument 'x'.*2-D"):
        mpengine.csr_aggregate(g, np.ones(2, np.float32))
    with pytest.raises(TypeError, match="argument 'indices'.*int32"):
        mpengine.Csr(np.array([0, 1, 2], np.int64), np.array([1, 0], np.int64))


def test_unknown_device_is_an_engine_error():
    with pytest.raises(mpengine.InvalidArgumentError, match="device"):
        mpengine.evaluate("frozen_lake", episodes=1, device="tpu")
