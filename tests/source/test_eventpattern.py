"""EventBridge event patterns, matched locally (the cases of EventBridge's documentation)."""

from __future__ import annotations

from typing import Any

import pytest

from veba_sdk.source.eventpattern import EventPattern

EVENT: dict[str, Any] = {
    "version": "0",
    "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
    "detail-type": "EnteredMaintenanceModeEvent",
    "source": "https://vc01.example:443/sdk",
    "account": "123456789012",
    "time": "2024-03-01T10:00:00Z",
    "region": "us-west-1",
    "resources": ["arn:aws:ec2:us-west-1:123456789012:instance/i-1", "host-19"],
    "detail": {
        "specversion": "1.0",
        "type": "com.vmware.event.router/event",
        "subject": "EnteredMaintenanceModeEvent",
        "data": {
            "Key": 17,
            "UserName": "",
            "Host": {"Name": "esx01.Example.COM", "Host": {"Type": "HostSystem"}},
            "Ds": None,
            "Cost": 12.5,
            "Arguments": [{"Key": "a", "Value": 1}, {"Key": "b", "Value": 2}],
            "Ip": "10.0.0.17",
            "Enabled": True,
        },
    },
}


@pytest.mark.parametrize(
    ("pattern", "matches"),
    [
        ({"detail": {"subject": ["EnteredMaintenanceModeEvent", "X"]}}, True),
        ({"detail": {"subject": ["ExitMaintenanceModeEvent"]}}, False),
        ({"detail-type": ["EnteredMaintenanceModeEvent"]}, True),
        ({"source": [{"prefix": "https://vc01."}]}, True),
        ({"source": [{"prefix": "https://vc02."}]}, False),
        ({"source": [{"suffix": "/sdk"}]}, True),
        ({"source": [{"prefix": {"equals-ignore-case": "HTTPS://VC01"}}]}, True),
        ({"source": [{"suffix": {"equals-ignore-case": "/SDK"}}]}, True),
        (
            {"detail": {"data": {"Host": {"Name": [{"equals-ignore-case": "ESX01.example.com"}]}}}},
            True,
        ),
        ({"detail": {"data": {"Host": {"Name": ["esx01.example.com"]}}}}, False),  # exact case
        ({"detail": {"data": {"Host": {"Name": [{"wildcard": "esx*.Example.*"}]}}}}, True),
        ({"detail": {"data": {"Host": {"Name": [{"wildcard": "esx*.example.*"}]}}}}, False),
        ({"detail": {"data": {"Key": [17]}}}, True),
        ({"detail": {"data": {"Key": [17.0]}}}, True),  # numbers compare as numbers
        ({"detail": {"data": {"Key": ["17"]}}}, False),  # a string is not a number
        ({"detail": {"data": {"Key": [{"numeric": [">", 10, "<=", 17]}]}}}, True),
        ({"detail": {"data": {"Key": [{"numeric": [">", 17]}]}}}, False),
        ({"detail": {"data": {"Cost": [{"numeric": ["=", 12.5]}]}}}, True),
        ({"detail": {"data": {"Ds": [None]}}}, True),
        ({"detail": {"data": {"UserName": [""]}}}, True),
        ({"detail": {"data": {"Enabled": [True]}}}, True),
        ({"detail": {"data": {"Enabled": [False]}}}, False),
        ({"detail": {"data": {"Ip": [{"cidr": "10.0.0.0/24"}]}}}, True),
        ({"detail": {"data": {"Ip": [{"cidr": "10.0.1.0/24"}]}}}, False),
        ({"detail": {"subject": [{"anything-but": "ExitMaintenanceModeEvent"}]}}, True),
        ({"detail": {"subject": [{"anything-but": ["EnteredMaintenanceModeEvent"]}]}}, False),
        ({"detail": {"subject": [{"anything-but": {"prefix": "Entered"}}]}}, False),
        ({"detail": {"subject": [{"anything-but": {"suffix": "Mode"}}]}}, True),
        (
            {
                "detail": {
                    "subject": [
                        {"anything-but": {"equals-ignore-case": ["enteredmaintenancemodeevent"]}}
                    ]
                }
            },
            False,
        ),
        ({"detail": {"data": {"Missing": [{"anything-but": "x"}]}}}, False),  # needs the field
        ({"detail": {"data": {"Host": {"Name": [{"exists": True}]}}}}, True),
        ({"detail": {"data": {"Missing": [{"exists": True}]}}}, False),
        ({"detail": {"data": {"Missing": [{"exists": False}]}}}, True),
        ({"detail": {"data": {"Host": {"Name": [{"exists": False}]}}}}, False),
        ({"resources": ["host-19"]}, True),  # an array field: any element
        ({"detail": {"data": {"Arguments": {"Key": ["b"]}}}}, True),  # objects in an array
        ({"detail": {"data": {"Arguments": {"Key": ["c"]}}}}, False),
        ({"detail-type": ["EnteredMaintenanceModeEvent"], "region": ["eu-west-1"]}, False),
        (
            {"$or": [{"detail-type": ["X"]}, {"detail": {"data": {"Key": [17]}}}]},
            True,
        ),
        ({"$or": [{"detail-type": ["X"]}, {"region": ["Y"]}]}, False),
        (
            {
                "detail": {"subject": ["EnteredMaintenanceModeEvent"]},
                "$or": [{"source": [{"prefix": "https"}]}, {"account": ["0"]}],
            },
            True,
        ),
    ],
)
def test_pattern(pattern: dict[str, Any], matches: bool) -> None:
    assert EventPattern(pattern).matches(EVENT) is matches


def test_wildcard_escapes() -> None:
    pattern = EventPattern({"detail-type": [{"wildcard": "a\\*b*"}]})
    assert pattern.matches({"detail-type": "a*bc"})
    assert not pattern.matches({"detail-type": "axbc"})


def test_json_text_as_a_rule_holds_it() -> None:
    pattern = EventPattern('{"detail":{"subject":["VmPoweredOnEvent"]}}')
    assert pattern.matches({"detail": {"subject": "VmPoweredOnEvent"}})
    assert "VmPoweredOnEvent" in repr(pattern)


@pytest.mark.parametrize(
    "pattern",
    [
        {},
        [],
        {"source": "x"},
        {"source": []},
        {"source": [{"prefix": 1}]},
        {"source": [{"unknown": "x"}]},
        {"source": [{"prefix": "a", "suffix": "b"}]},
        {"source": [{"numeric": [">"]}]},
        {"source": [{"numeric": ["~", 1]}]},
        {"source": [{"exists": "yes"}]},
        {"source": [{"wildcard": "a**b"}]},
        {"source": [["nested"]]},
        {"$or": [{"source": ["x"]}]},
        {"source": [{"cidr": "not-a-network"}]},
    ],
)
def test_invalid_patterns_are_refused(pattern: Any) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - each case has its own message
        EventPattern(pattern)
