import json

from trainers.jsonl import jsonl_lines


def test_rows_split_on_newlines_only():
    # JSON.stringify keeps U+2028/U+0085 raw inside strings; they must not split a row.
    text = json.dumps({"text": "a\u2028b\u0085c"}, ensure_ascii=False) + "\n\n" + json.dumps({"text": "d"}) + "\r\n"
    rows = [(number, json.loads(line)) for number, line in jsonl_lines(text)]
    assert rows == [(1, {"text": "a\u2028b\u0085c"}), (3, {"text": "d"})]
