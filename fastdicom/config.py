"""Module-level switches of fastdicom (read at conversion time, like pydicom's ``config``).

``datetime_conversion``
    ``True`` to return DA, DT and TM values as :class:`~fastdicom.valuerep.DA`,
    :class:`~fastdicom.valuerep.DT` and :class:`~fastdicom.valuerep.TM`
    (``datetime`` subclasses) instead of ``str``. Default ``False``, as in pydicom.
``use_DS_decimal``
    ``True`` to return DS values as :class:`~fastdicom.valuerep.DSdecimal`
    instead of :class:`~fastdicom.valuerep.DSfloat`. Default ``False``, as in pydicom.
"""
from __future__ import annotations

datetime_conversion: bool = False
use_DS_decimal: bool = False
