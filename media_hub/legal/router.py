"""Legal metadata routes: topics and legal documents (API and the /legal page)."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel

from media_hub.accounts.models import User
from media_hub.accounts.web import require
from media_hub.deps import SessionDep
from media_hub.legal import service
from media_hub.legal.models import DocType
from media_hub.library.schemas import DocumentOut, TopicOut
from media_hub.policy import Action
from media_hub.web import back, flash, render

api = APIRouter(prefix="/api/v1", tags=["legal"])
pages = APIRouter(include_in_schema=False)
Maintainer = Depends(require(Action.manage_taxonomy))


class TopicIn(BaseModel):
    name: str
    description: str = ""


class DocumentIn(BaseModel):
    number: str
    title: str
    doc_type: str
    issuing_body: str = ""
    effective_date: date | None = None


@api.get("/topics", response_model=list[TopicOut])
def list_topics(session: SessionDep) -> list[TopicOut]:
    return [TopicOut.model_validate(t, from_attributes=True) for t in service.list_topics(session)]


@api.post("/topics", response_model=TopicOut, status_code=201)
def create_topic(body: TopicIn, session: SessionDep, _user: User = Maintainer) -> TopicOut:
    try:
        topic = service.create_topic(session, body.name, body.description)
    except service.MetadataError as exc:
        raise HTTPException(422, str(exc)) from None
    session.commit()
    return TopicOut.model_validate(topic, from_attributes=True)


@api.get("/documents", response_model=list[DocumentOut])
def list_documents(session: SessionDep) -> list[DocumentOut]:
    return [DocumentOut.model_validate(d, from_attributes=True) for d in service.list_documents(session)]


@api.post("/documents", response_model=DocumentOut, status_code=201)
def create_document(body: DocumentIn, session: SessionDep, _user: User = Maintainer) -> DocumentOut:
    try:
        doc = service.create_document(session, **body.model_dump())
    except service.MetadataError as exc:
        raise HTTPException(422, str(exc)) from None
    session.commit()
    return DocumentOut.model_validate(doc, from_attributes=True)


@pages.get("/legal", response_class=HTMLResponse)
def legal_page(request: Request, session: SessionDep, _user: User = Maintainer):
    return render(request, "legal.html", {
        "topics": [TopicOut.model_validate(t, from_attributes=True).model_dump() | {"description": t.description}
                   for t in service.list_topics(session)],
        "documents": [DocumentOut.model_validate(d, from_attributes=True).model_dump(mode="json")
                      for d in service.list_documents(session)],
        "doc_types": [t.value for t in DocType],
    })


@pages.post("/legal/topics")
async def legal_topic_submit(request: Request, session: SessionDep, _user: User = Maintainer):
    form = await request.form()
    try:
        topic = service.create_topic(session, str(form.get("name", "")), str(form.get("description", "")))
        session.commit()
        flash(request, f"Đã thêm chủ đề “{topic.name}”.")
    except service.MetadataError as exc:
        session.rollback()
        flash(request, str(exc), error=True)
    return back("/legal")


@pages.post("/legal/documents")
async def legal_document_submit(request: Request, session: SessionDep, _user: User = Maintainer):
    form = await request.form()
    try:
        raw_date = str(form.get("effective_date", "")).strip()
        try:
            effective = date.fromisoformat(raw_date) if raw_date else None
        except ValueError:
            raise service.MetadataError("Ngày hiệu lực không hợp lệ.") from None
        doc = service.create_document(
            session,
            number=str(form.get("number", "")),
            title=str(form.get("title", "")),
            doc_type=str(form.get("doc_type", "")),
            issuing_body=str(form.get("issuing_body", "")),
            effective_date=effective,
        )
        session.commit()
        flash(request, f"Đã thêm văn bản số {doc.number}.")
    except service.MetadataError as exc:
        session.rollback()
        flash(request, str(exc), error=True)
    return back("/legal")
