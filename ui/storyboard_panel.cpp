#include "ui/storyboard_panel.h"

#include <QDropEvent>
#include <QHBoxLayout>
#include <QLabel>
#include <QMimeData>
#include <QPainter>
#include <QPushButton>
#include <QSignalBlocker>
#include <QStyledItemDelegate>
#include <QVBoxLayout>

#include "frameloom/core/media_paths.h"
#include "ui/thumbnail_cache.h"

namespace fl::studio {

namespace {

QString qs(const std::string& s) { return QString::fromStdString(s); }

constexpr int kThumb = 56;
constexpr int kCardHeight = kThumb + 12;

/// Paints a shot card: thumbnail on the left; name, prompt (elided) and "duration · status" beside it.
class ShotCardDelegate : public QStyledItemDelegate {
public:
    using QStyledItemDelegate::QStyledItemDelegate;

    QSize sizeHint(const QStyleOptionViewItem& option, const QModelIndex& index) const override {
        QSize s = QStyledItemDelegate::sizeHint(option, index);
        return {s.width(), kCardHeight};
    }

    void paint(QPainter* painter, const QStyleOptionViewItem& option, const QModelIndex& index) const override {
        QStyleOptionViewItem base = option;
        initStyleOption(&base, index);
        base.text.clear();
        base.icon = QIcon();
        // Background and selection as the style draws them.
        option.widget->style()->drawControl(QStyle::CE_ItemViewItem, &base, painter, option.widget);

        painter->save();
        const QRect r = option.rect.adjusted(6, 6, -6, -6);
        const QRect thumb(r.left(), r.top(), kThumb, kThumb);
        const QPixmap pixmap = index.data(Qt::DecorationRole).value<QPixmap>();
        if (pixmap.isNull()) {
            painter->fillRect(thumb, QColor(40, 40, 40));
            painter->setPen(QColor(150, 150, 150));
            painter->drawText(thumb, Qt::AlignCenter, QObject::tr("no take"));
        } else {
            const QPixmap scaled = pixmap.scaled(thumb.size(), Qt::KeepAspectRatio);
            painter->drawPixmap(thumb.left() + (kThumb - scaled.width()) / 2,
                                thumb.top() + (kThumb - scaled.height()) / 2, scaled);
        }
        const bool selected = option.state & QStyle::State_Selected;
        const QColor text = option.palette.color(selected ? QPalette::HighlightedText : QPalette::Text);
        const QRect body = r.adjusted(kThumb + 8, 0, 0, 0);
        const int line = body.height() / 3;
        QFont bold = option.font;
        bold.setBold(true);
        painter->setFont(bold);
        painter->setPen(text);
        painter->drawText(QRect(body.left(), body.top(), body.width(), line), Qt::AlignLeft | Qt::AlignVCenter,
                          index.data(Qt::DisplayRole).toString());
        painter->setFont(option.font);
        const QFontMetrics fm(option.font);
        const QString prompt = index.data(ShotCardList::PromptRole).toString();
        painter->drawText(QRect(body.left(), body.top() + line, body.width(), line), Qt::AlignLeft | Qt::AlignVCenter,
                          fm.elidedText(prompt.isEmpty() ? QObject::tr("(no prompt)") : prompt, Qt::ElideRight,
                                        body.width()));
        const QString status = index.data(ShotCardList::StatusRole).toString();
        painter->setPen(status == QLatin1String("failed")       ? QColor(220, 80, 80)
                        : status == QLatin1String("generating") ? QColor(230, 170, 40)
                                                                : text);
        painter->drawText(QRect(body.left(), body.top() + 2 * line, body.width(), line),
                          Qt::AlignLeft | Qt::AlignVCenter,
                          QStringLiteral("%1 · %2").arg(index.data(ShotCardList::DurationRole).toString(), status));
        painter->restore();
    }
};

}  // namespace

QString to_text(ShotStatus status) {
    switch (status) {
        case ShotStatus::NoTake: return QStringLiteral("no take");
        case ShotStatus::Generating: return QStringLiteral("generating");
        case ShotStatus::HasTakes: return QStringLiteral("has takes");
        case ShotStatus::Failed: return QStringLiteral("failed");
    }
    return {};
}

// ---- ShotCardList ----

ShotCardList::ShotCardList(QWidget* parent) : QListWidget(parent) {
    setObjectName("shotList");
    setItemDelegate(new ShotCardDelegate(this));
    setSelectionMode(QAbstractItemView::SingleSelection);
    setDragEnabled(true);
    setAcceptDrops(true);
    setDropIndicatorShown(true);
    setDragDropMode(QAbstractItemView::InternalMove);
    setDefaultDropAction(Qt::MoveAction);
    setEditTriggers(QAbstractItemView::DoubleClicked | QAbstractItemView::EditKeyPressed);
}

int ShotCardList::insertionRowAt(const QPoint& pos) const {
    const QModelIndex index = indexAt(pos);
    if (!index.isValid()) return count();
    const QRect rect = visualRect(index);
    return pos.y() < rect.center().y() ? index.row() : index.row() + 1;
}

void ShotCardList::dropEvent(QDropEvent* event) {
    // Only our own cards are reordered; the item itself is not moved here: the document decides.
    const int from = currentRow();
    if (from < 0 || !event->mimeData()->hasFormat(QStringLiteral("application/x-qabstractitemmodeldatalist"))) {
        event->ignore();
        return;
    }
    event->setDropAction(Qt::IgnoreAction);
    event->accept();
    dropCurrentAt(event->position().toPoint());
}

void ShotCardList::dropCurrentAt(const QPoint& pos) {
    const int from = currentRow();
    if (from < 0) return;
    emit shotDropped(from, insertionRowAt(pos));
}

// ---- StoryboardPanel ----

StoryboardPanel::StoryboardPanel(ThumbnailCache* thumbnails, QWidget* parent)
    : QWidget(parent), thumbnails_(thumbnails) {
    setObjectName("storyboard");
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    auto* heading = new QLabel(tr("Storyboard"), this);
    heading->setObjectName("storyboardHeading");
    layout->addWidget(heading);
    list_ = new ShotCardList(this);
    list_->setToolTip(tr("Drag cards to reorder the shots; double-click a name to rename"));
    layout->addWidget(list_, 1);
    auto* buttons = new QHBoxLayout;
    add_ = new QPushButton(tr("New shot"), this);
    add_->setObjectName("newShotButton");
    duplicate_ = new QPushButton(tr("Duplicate"), this);
    duplicate_->setObjectName("duplicateShotButton");
    delete_ = new QPushButton(tr("Delete"), this);
    delete_->setObjectName("deleteShotButton");
    buttons->addWidget(add_);
    buttons->addWidget(duplicate_);
    buttons->addWidget(delete_);
    layout->addLayout(buttons);

    connect(add_, &QPushButton::clicked, this, &StoryboardPanel::addRequested);
    connect(duplicate_, &QPushButton::clicked, this, &StoryboardPanel::duplicateRequested);
    connect(delete_, &QPushButton::clicked, this, &StoryboardPanel::deleteRequested);
    connect(list_, &QListWidget::currentItemChanged, this, [this](QListWidgetItem* item) {
        if (!rebuilding_) emit shotSelected(item ? item->data(ShotCardList::IdRole).toString() : QString());
    });
    connect(list_, &QListWidget::itemChanged, this, [this](QListWidgetItem* item) {
        if (!rebuilding_) emit shotRenamed(item->data(ShotCardList::IdRole).toString(), item->text().trimmed());
    });
    connect(list_, &ShotCardList::shotDropped, this, [this](int from, int insert) {
        QListWidgetItem* item = list_->item(from);
        if (!item) return;
        // Index after removing the dragged card: a drop below it counts one less.
        const int to = insert > from ? insert - 1 : insert;
        if (to == from) return;
        emit shotMoveRequested(item->data(ShotCardList::IdRole).toString(), to);
    });
}

ShotStatus StoryboardPanel::status_of(const core::Shot& shot, const std::set<std::string>& generating,
                                      const std::set<std::string>& failed) {
    if (generating.count(shot.id)) return ShotStatus::Generating;
    if (failed.count(shot.id)) return ShotStatus::Failed;
    return shot.takes.empty() ? ShotStatus::NoTake : ShotStatus::HasTakes;
}

void StoryboardPanel::rebuild(const core::Project& project, const std::filesystem::path& project_dir,
                              const std::string& current, const std::set<std::string>& generating,
                              const std::set<std::string>& failed) {
    rebuilding_ = true;
    QSignalBlocker block(list_);
    list_->clear();
    for (const core::Shot& shot : project.shots) {
        auto* item = new QListWidgetItem(qs(shot.name.empty() ? shot.id : shot.name), list_);
        item->setData(ShotCardList::IdRole, qs(shot.id));
        item->setData(ShotCardList::PromptRole, qs(shot.params.prompt));
        const double seconds = shot.params.fps.to_double() > 0
                                   ? static_cast<double>(shot.params.frames) / shot.params.fps.to_double()
                                   : 0.0;
        item->setData(ShotCardList::DurationRole, tr("%1 s").arg(seconds, 0, 'f', 1));
        item->setData(ShotCardList::StatusRole, to_text(status_of(shot, generating, failed)));
        if (const core::Take* take = shot.find_take(shot.selected_take)) {
            const QPixmap thumb =
                thumbnails_->first_frame(core::resolve_media_reference(take->file, project_dir), kThumb);
            if (!thumb.isNull()) item->setData(Qt::DecorationRole, thumb);
        }
        item->setFlags(item->flags() | Qt::ItemIsEditable | Qt::ItemIsDragEnabled);
        item->setToolTip(tr("%1\n%n take(s)", nullptr, static_cast<int>(shot.takes.size())).arg(qs(shot.params.prompt)));
        if (shot.id == current) list_->setCurrentItem(item);
    }
    const bool has_current = !current.empty() && project.find_shot(current);
    duplicate_->setEnabled(has_current);
    delete_->setEnabled(has_current);
    rebuilding_ = false;
}

}  // namespace fl::studio
