"""The two big table views: agents (a drop target) and inquiries (a drag source).

Both keep row heights fixed and never size columns to their contents, which
would read every one of 20,000 rows. Sorting goes to the model's ``sort``
(one sort per header click), never through a live-sorting proxy.

Dragging inquiries onto an agent asks the broker to reassign them. While the
drag hovers over an agent, the likely verdict is explained (the agent lacks
the skill, is away, is at its cap...), but the drop is still sent: the
broker's state is fresher than ours, and its verdict is what is shown.
"""
from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QToolTip, QWidget

from supervisor.console.models import inquiry_ids

ROW_HEIGHT_PX = 24


def _setup(view: QTableView) -> None:
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setAlternatingRowColors(True)
    view.setWordWrap(False)
    view.verticalHeader().hide()
    view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    view.verticalHeader().setDefaultSectionSize(ROW_HEIGHT_PX)
    header = view.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    header.setStretchLastSection(True)
    header.setSortIndicatorShown(True)
    header.setHighlightSections(False)


def log_table(model, object_name: str, widths: dict[str, int]) -> QTableView:
    """A read-only list of records (alerts, audit entries): whole rows, fixed height."""
    view = QTableView()
    view.setObjectName(object_name)
    view.setModel(model)
    view.verticalHeader().hide()
    view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    view.verticalHeader().setDefaultSectionSize(ROW_HEIGHT_PX)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setWordWrap(False)
    view.horizontalHeader().setStretchLastSection(True)
    for name, px in widths.items():
        view.setColumnWidth(model.column_of(name), px)
    return view


class AgentTableView(QTableView):
    """Agents: quota cells edit in place; inquiries dropped on a row are reassigned to it."""

    #: (inquiry ids, agent id)
    reassign_dropped = Signal(list, str)
    #: the explanation while a drag hovers over an agent ("" when the drag leaves)
    drop_hint = Signal(str)

    def __init__(self, hint: Callable[[list[str], str], str | None], parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("agentTable")
        self._hint = hint
        _setup(self)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked
                             | QAbstractItemView.EditTrigger.EditKeyPressed)
        self.setAcceptDrops(True)
        self.viewport().setAcceptDrops(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DropOnly)
        self.setDropIndicatorShown(False)

    def agent_at(self, pos: QPoint) -> str | None:
        index = self.indexAt(pos)
        if not index.isValid():
            return None
        return self.model().key_at(index.row())

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if inquiry_ids(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        ids = inquiry_ids(event.mimeData())
        pos = event.position().toPoint()
        agent_id = self.agent_at(pos)
        if not ids or agent_id is None:
            self.drop_hint.emit("")
            event.ignore()
            return
        index = self.indexAt(pos)
        self.selectRow(index.row())  # shows which agent the drop goes to
        hint = self._hint(ids, agent_id)
        text = hint if hint else self.tr("Drop to reassign %1 to %2").replace(
            "%1", ", ".join(ids)).replace("%2", agent_id)
        self.drop_hint.emit(text)
        QToolTip.showText(self.viewport().mapToGlobal(pos), text, self.viewport())
        event.acceptProposedAction()

    def dragLeaveEvent(self, event) -> None:
        self.drop_hint.emit("")
        QToolTip.hideText()
        event.accept()

    def dropEvent(self, event: QDropEvent) -> None:
        ids = inquiry_ids(event.mimeData())
        agent_id = self.agent_at(event.position().toPoint())
        self.drop_hint.emit("")
        QToolTip.hideText()
        if not ids or agent_id is None:
            event.ignore()
            return
        event.acceptProposedAction()
        self.reassign_dropped.emit(ids, agent_id)


class InquiryTableView(QTableView):
    """Open inquiries; selected rows can be dragged onto an agent."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("inquiryTable")
        _setup(self)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setDragEnabled(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.setDefaultDropAction(Qt.DropAction.MoveAction)

    def selected_ids(self) -> list[str]:
        rows = sorted({ix.row() for ix in self.selectionModel().selectedRows()})
        model = self.model()
        return [k for k in (model.key_at(r) for r in rows) if k is not None]
