"""Query/Retrieve levels (PS3.4 C.6.1, Study Root) and which attributes belong to each.

The Patient and Study levels are one level here, as in the Study Root information model
that QIDO-RS follows. Attributes not listed below for Study or Series are Instance level.
The lists follow the Patient, General Study, Patient Study, Clinical Trial, General
Series, General Equipment and Clinical Trial Series modules of PS3.3, and dcm4chee-arc-light's
default attribute filters.
"""

from __future__ import annotations

from enum import IntEnum

from pydicom.datadict import tag_for_keyword


class Level(IntEnum):
    STUDY = 1
    SERIES = 2
    INSTANCE = 3

    @property
    def label(self) -> str:
        return self.name.lower()


_PATIENT_KEYWORDS = """
SpecificCharacterSet PatientName PatientID IssuerOfPatientID IssuerOfPatientIDQualifiersSequence
TypeOfPatientID PatientBirthDate PatientBirthTime PatientSex OtherPatientIDsSequence
OtherPatientNames PatientBirthName PatientMotherBirthName EthnicGroup PatientComments
PatientSpeciesDescription PatientSpeciesCodeSequence PatientBreedDescription
PatientBreedCodeSequence BreedRegistrationSequence StrainDescription ResponsiblePerson
ResponsiblePersonRole ResponsibleOrganization PatientIdentityRemoved DeidentificationMethod
DeidentificationMethodCodeSequence QualityControlSubject PatientSexNeutered
ClinicalTrialSponsorName ClinicalTrialProtocolID ClinicalTrialProtocolName
ClinicalTrialSiteID ClinicalTrialSiteName ClinicalTrialSubjectID ClinicalTrialSubjectReadingID
"""
_STUDY_KEYWORDS = """
StudyDate StudyTime AccessionNumber IssuerOfAccessionNumberSequence ReferringPhysicianName
ReferringPhysicianIdentificationSequence StudyDescription ProcedureCodeSequence
StudyInstanceUID StudyID NameOfPhysiciansReadingStudy PhysiciansOfRecord
PhysiciansOfRecordIdentificationSequence AdmittingDiagnosesDescription
AdmittingDiagnosesCodeSequence PatientAge PatientSize PatientWeight PatientSizeCodeSequence
Occupation AdditionalPatientHistory AdmissionID IssuerOfAdmissionIDSequence ServiceEpisodeID
ConsultingPhysicianName ReasonForPerformedProcedureCodeSequence TimezoneOffsetFromUTC
ModalitiesInStudy SOPClassesInStudy NumberOfStudyRelatedSeries NumberOfStudyRelatedInstances
NumberOfPatientRelatedStudies ClinicalTrialTimePointID ClinicalTrialTimePointDescription
ConsentForClinicalTrialUseSequence SmokingStatus PregnancyStatus MedicalAlerts Allergies
PatientState LastMenstrualDate
"""
_SERIES_KEYWORDS = """
Modality SeriesInstanceUID SeriesNumber SeriesDate SeriesTime SeriesDescription
SeriesDescriptionCodeSequence Laterality OperatorsName OperatorIdentificationSequence
PerformingPhysicianName PerformingPhysicianIdentificationSequence ProtocolName
BodyPartExamined PatientPosition ReferencedPerformedProcedureStepSequence
RelatedSeriesSequence PerformedProcedureStepStartDate PerformedProcedureStepStartTime
PerformedProcedureStepEndDate PerformedProcedureStepEndTime PerformedProcedureStepID
PerformedProcedureStepDescription PerformedProtocolCodeSequence RequestAttributesSequence
CommentsOnThePerformedProcedureStep AnatomicalOrientationType SmallestPixelValueInSeries
LargestPixelValueInSeries Manufacturer InstitutionName InstitutionAddress StationName
InstitutionalDepartmentName ManufacturerModelName DeviceSerialNumber SoftwareVersions
PerformedStationAETitle PerformedStationName PerformedLocation
NumberOfSeriesRelatedInstances ClinicalTrialCoordinatingCenterName ClinicalTrialSeriesID
ClinicalTrialSeriesDescription
"""


def _tags(keywords: str) -> frozenset[int]:
    return frozenset(tag_for_keyword(k) for k in keywords.split())


STUDY_TAGS = _tags(_PATIENT_KEYWORDS) | _tags(_STUDY_KEYWORDS)
SERIES_TAGS = _tags(_SERIES_KEYWORDS)


def level_of(tag: int) -> Level:
    """The level an attribute belongs to (Instance unless listed for Study or Series)."""
    if tag in STUDY_TAGS:
        return Level.STUDY
    if tag in SERIES_TAGS:
        return Level.SERIES
    return Level.INSTANCE
