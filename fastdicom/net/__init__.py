"""DICOM networking (PS3.7 / PS3.8): the Upper Layer protocol of fastdicom.

``fastdicom.net.pdu`` encodes and decodes the seven PDU types and their items;
``fastdicom._core.PDUReader`` frames a received byte stream into PDUs without
copying the presentation data values; ``fastdicom.net.errors`` holds the
network exceptions.
"""
