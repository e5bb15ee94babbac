"""The two formats of GeoReport v2: XML (required by the spec) and JSON (its Spark-convention mapping).

A view's answer is the JSON form; the XML renderer writes the same data as
elements: each key an element, each list item an element named for its
list (LIST_ITEMS), true/false in lower case, a null as an empty element. The
root and item names come from the view (`xml_root`, `xml_item`); an error
answer is always <errors><error>…</error></errors>.
"""

import re
from xml.etree import ElementTree as ET  # nosec B405 # builds XML to send; never parses any

from rest_framework import renderers

# The element of each item of a list, by the list's element.
LIST_ITEMS = {"attributes": "attribute", "values": "value", "endpoints": "endpoint", "formats": "format"}
# Characters XML 1.0 cannot carry (control characters, lone surrogates, non-characters).
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


class Open311JSONRenderer(renderers.JSONRenderer):
    media_type = "application/json"
    format = "json"
    charset = "utf-8"


class Open311XMLRenderer(renderers.BaseRenderer):
    media_type = "text/xml"
    format = "xml"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        renderer_context = renderer_context or {}
        response = renderer_context.get("response")
        view = renderer_context.get("view")
        if response is not None and response.exception:
            root_name, item_name = "errors", "error"
        else:
            root_name, item_name = getattr(view, "xml_root", "response"), getattr(view, "xml_item", "item")
        root = ET.Element(root_name)
        if isinstance(data, list):
            for item in data:
                _fill(ET.SubElement(root, item_name), item)
        else:
            _fill(root, data)
        body = ET.tostring(root, encoding="unicode")
        return ('<?xml version="1.0" encoding="utf-8"?>\n' + body).encode("utf-8")


def _fill(element: ET.Element, value) -> None:
    if isinstance(value, dict):
        for key, child in value.items():
            _fill(ET.SubElement(element, key), child)
    elif isinstance(value, list):
        for child in value:
            _fill(ET.SubElement(element, LIST_ITEMS.get(element.tag, "item")), child)
    elif value is None:
        return
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    else:
        element.text = NOT_XML.sub("", str(value))
