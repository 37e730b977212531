"""WADO-WS: the SOAP web service of PS3.18 2013 §6.4 (IHE XDS-I.b RAD-69 and the rendered
and metadata retrievals), a protocol adapter beside `web`: it calls the archive and the
pure `dicom` package, and is mounted by the application at
`{context}/xdsi/ImagingDocumentSource`."""
